"""The plan configuration: the shipped file loads; a malformed one is rejected, naming where and why."""

from __future__ import annotations

import copy

import pytest
import yaml

from mfg_indicators.config import ConfigError, load_config
from mfg_indicators.paths import DEFAULT_CONFIG


def _write(tmp_path, data) -> str:
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(p)


@pytest.fixture
def data():
    return yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def test_shipped_plan_loads_with_every_indicator():
    c = load_config()
    assert c.county == "云和县" and c.window_months == 36
    assert len(c.indicators) == 37
    assert c.industry_group("2459") == "木玩" and c.industry_group("3130") == "钢压延"
    assert c.industry_group("9999") == "其他"
    assert c.responsible_units("K01")[0] == "县发改局"


@pytest.mark.parametrize("mutate, where, reason", [
    (lambda d: d["indicators"][2].update(kind="weekly"), "indicators/2/kind", "is not one of"),
    (lambda d: d["plan"]["window"].update(start="2021-13"), "plan/window/start", "does not match"),
    (lambda d: d["bands"]["level"].pop("yellow_ratio"), "bands/level", "'yellow_ratio' is a required property"),
    (lambda d: d.update(surprise=1), "(top level)", "Additional properties"),
    (lambda d: d["indicators"][0].update(target="45"), "indicators/0/target", "is not of type 'number'"),
])
def test_schema_errors_name_location_and_reason(tmp_path, data, mutate, where, reason):
    bad = copy.deepcopy(data)
    mutate(bad)
    with pytest.raises(ConfigError) as exc:
        load_config(_write(tmp_path, bad))
    msg = str(exc.value)
    assert "plan.yaml" in msg and "schema.json" in msg
    assert f"at {where}: " in msg and reason in msg


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d["indicators"][1].update(code=d["indicators"][0]["code"]), "defined twice"),
    (lambda d: d["indicators"][0].update(group="不存在组"), "is not in groups"),
    (lambda d: d["indicators"][0].update(task="九.9"), "is not in tasks"),
    (lambda d: d.update(per_mu_excluded_groups=["造船"]), "is not an industry group"),
])
def test_consistency_errors(tmp_path, data, mutate, reason):
    bad = copy.deepcopy(data)
    mutate(bad)
    with pytest.raises(ConfigError, match=reason):
        load_config(_write(tmp_path, bad))


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read plan configuration"):
        load_config(tmp_path / "missing.yaml")
    p = tmp_path / "broken.yaml"
    p.write_text("plan: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
