"""Status by kind and band (indicators.md -> Status), with the bands of the plan configuration."""

from __future__ import annotations

import pytest

from mfg_indicators.config import load_config
from mfg_indicators.status import assess, months_elapsed, time_progress

CFG = load_config()


def st(kind, value, target, period="2023-06"):
    y, m = map(int, period.split("-"))
    return assess(kind, value, target, year=y, month=m, bands=CFG["bands"],
                  window_start=CFG.window_start, window_months=CFG.window_months)


@pytest.mark.parametrize("value,status", [(45, "green"), (50, "green"), (40.5, "yellow"), (40.49, "red")])
def test_level(value, status):
    a = st("level", value, 45)
    assert a.status == status and a.progress == pytest.approx(value / 45)
    assert a.time_progress is None and a.annualized is None


@pytest.mark.parametrize("value,status", [(15, "green"), (12, "yellow"), (11.99, "red"), (-4.1, "red")])
def test_rate_within_three_points(value, status):
    assert st("rate", value, 15).status == status


def test_annualized_uses_12_over_n():
    # 8.41 in 1—6月 -> 16.82 a year vs 15: green (the spec's example)
    a = st("annualized", 8.41, 15)
    assert a.annualized == pytest.approx(16.82) and a.status == "green"
    assert a.progress == pytest.approx(16.82 / 15) and a.time_progress == pytest.approx(0.5)
    assert st("annualized", 6.75, 15).status == "yellow"  # 13.5 = 90 % of 15
    assert st("annualized", 6.7, 15).status == "red"
    assert st("annualized", 3.4, 15, "2023-03").status == "yellow"  # 3.4 × 12/3 = 13.6 >= 13.5


def test_cumulative_against_time_progress():
    # 2023-06: 30 of 36 months -> 0.8333
    assert time_progress("cumulative", 2023, 6, window_start="2021-01", window_months=36) == pytest.approx(30 / 36)
    assert st("cumulative", 7.5, 9).status == "green"  # 0.8333 = time progress
    assert st("cumulative", 6.6, 9).status == "yellow"  # 0.7333 = tp - 10 points
    assert st("cumulative", 6.5, 9).status == "red"
    assert st("cumulative", 9, 9).status == "done"
    assert st("cumulative", 12, 9).status == "done"
    assert st("cumulative", 0, 15, "2021-01").status == "yellow"  # 0 >= 1/36 - 0.10
    # after the window, time progress stays at 1; before it, 0
    assert st("cumulative", 8, 9, "2024-03").time_progress == 1.0
    assert months_elapsed("2021-01", 2020, 12) == 0


def test_this_year_against_n_over_12():
    a = st("this_year", 0.1, 0.2)  # 0.5 = 6/12
    assert a.status == "green" and a.time_progress == pytest.approx(0.5)
    assert st("this_year", 0.08, 0.2).status == "yellow"  # 0.4 = 0.5 - 10 points
    assert st("this_year", 0.079, 0.2).status == "red"
    assert st("this_year", 0.2, 0.2).status == "done"
    assert st("this_year", 1, 25, "2023-01").status == "yellow"  # 0.04 < 1/12 but >= 1/12 - 0.1


def test_no_data_and_bands_from_configuration():
    a = st("cumulative", None, 9)
    assert a.status == "no_data" and a.progress is None and a.time_progress == pytest.approx(30 / 36)
    bands = {**CFG["bands"], "rate": {"yellow_points": 1}}
    assert assess("rate", 12, 15, year=2023, month=6, bands=bands, window_start="2021-01",
                  window_months=36).status == "red"
    with pytest.raises(ValueError):
        st("weird", 1, 1)
