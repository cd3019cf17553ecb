"""The plan configuration: one YAML file per county plan, checked against config/schema.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .paths import CONFIG_DIR, DEFAULT_CONFIG


class ConfigError(ValueError):
    """A plan configuration that does not meet the schema or is inconsistent."""


def _months_between(start: str, end: str) -> int:
    y0, m0 = map(int, start.split("-"))
    y1, m1 = map(int, end.split("-"))
    return (y1 - y0) * 12 + (m1 - m0) + 1


@dataclass(frozen=True)
class PlanConfig:
    path: Path
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def plan_id(self) -> str:
        return self.data["plan"]["id"]

    @property
    def county(self) -> str:
        return self.data["plan"]["county"]

    @property
    def document(self) -> str:
        return self.data["plan"]["document"]

    @property
    def window_start(self) -> str:
        return self.data["plan"]["window"]["start"]

    @property
    def window_end(self) -> str:
        return self.data["plan"]["window"]["end"]

    @property
    def window_months(self) -> int:
        return _months_between(self.window_start, self.window_end)

    @property
    def indicators(self) -> list[dict[str, Any]]:
        return self.data["indicators"]

    def indicator(self, code: str) -> dict[str, Any]:
        for ind in self.indicators:
            if ind["code"] == code:
                return ind
        raise KeyError(code)

    @cached_property
    def group_leads(self) -> dict[str, str]:
        return {g["name"]: g["lead_unit"] for g in self.data["groups"]}

    def responsible_units(self, code: str) -> list[str]:
        return list(self.data["tasks"][self.indicator(code)["task"]]["units"])

    def industry_group(self, industry_code: str | None) -> str:
        code = (industry_code or "").strip()
        for g in self.data["industry_groups"]:
            if any(code.startswith(p) for p in g["prefixes"]):
                return g["name"]
        return self.data["industry_default_group"]


def load_checked_yaml(source: str | Path | dict[str, Any], schema_path: Path,
                      what: str) -> tuple[Path, dict[str, Any]]:
    """Read a YAML file (or take a dict) and check it against a JSON schema; raise ConfigError
    naming the file, each failing location and the reason. Shared by every configuration file."""
    import jsonschema

    if isinstance(source, dict):
        p, data = Path("<dict>"), source
    else:
        p = Path(source)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read {what}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{p}: {what} does not match {schema_path.parent.name}/{schema_path.name}:"]
        for e in errors[:20]:
            where = "/".join(str(x) for x in e.absolute_path) or "(top level)"
            lines.append(f"  at {where}: {e.message}")
        raise ConfigError("\n".join(lines))
    return p, data


def load_config(path: str | Path | None = None) -> PlanConfig:
    """Load and check a plan configuration; raise ConfigError naming what is wrong."""
    p, data = load_checked_yaml(Path(path) if path else DEFAULT_CONFIG, CONFIG_DIR / "schema.json",
                                "plan configuration")
    _check_consistency(p, data)
    return PlanConfig(p, data)


def _check_consistency(p: Path, data: dict[str, Any]) -> None:
    problems = []
    groups = {g["name"] for g in data["groups"]}
    codes: set[str] = set()
    for ind in data["indicators"]:
        if ind["code"] in codes:
            problems.append(f"indicator {ind['code']} is defined twice")
        codes.add(ind["code"])
        if ind["group"] not in groups:
            problems.append(f"indicator {ind['code']}: group {ind['group']!r} is not in groups")
        if ind["task"] not in data["tasks"]:
            problems.append(f"indicator {ind['code']}: task {ind['task']!r} is not in tasks")
    if data["plan"]["window"]["start"] > data["plan"]["window"]["end"]:
        problems.append("plan window starts after it ends")
    for name in data["per_mu_excluded_groups"]:
        if name not in {g["name"] for g in data["industry_groups"]}:
            problems.append(f"per_mu_excluded_groups: {name!r} is not an industry group")
    if problems:
        raise ConfigError(f"{p}: " + "; ".join(problems))
