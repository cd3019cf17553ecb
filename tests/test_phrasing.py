"""The Chinese phrasing rules of shared/spec/bulletin.md, one by one."""

from __future__ import annotations

import datetime as dt

import pytest

from mfg_indicators import phrasing as ph


# --- growth: 增长 / 下降 / 持平 ------------------------------------------------------------

def test_positive_growth():
    assert ph.growth(8.4) == "同比增长8.4%"
    assert ph.growth(8.44) == "同比增长8.4%"
    assert ph.growth(8.45) == "同比增长8.5%"  # half-up, not banker's / binary rounding


def test_negative_growth_is_decline_never_negative_increase():
    assert ph.growth(-4.1) == "同比下降4.1%"
    assert "-" not in ph.growth(-4.1) and "增长" not in ph.growth(-4.1)


def test_zero_growth_is_flat_also_after_rounding():
    assert ph.growth(0) == "与上年同期持平"
    assert ph.growth(0.04) == "与上年同期持平"
    assert ph.growth(-0.04) == "与上年同期持平"
    assert ph.growth(0.05) == "同比增长0.1%"


def test_growth_with_other_prefix_and_words():
    assert ph.growth(13.1, prefix="年均") == "年均增长13.1%"
    assert ph.growth(0.0, prefix="年均") == "年均持平"
    # a decline rate printed from the quantity's own growth
    assert ph.growth(-3.8, up="上升", down="下降") == "同比下降3.8%"
    assert ph.growth(2.0, up="上升", down="下降") == "同比上升2.0%"


# --- 个百分点 ------------------------------------------------------------------------------

def test_percentage_point_differences():
    assert ph.points(1.2) == "高于目标1.2个百分点"
    assert ph.points(-6.6) == "低于目标6.6个百分点"
    assert ph.points(0.01) == "与目标持平"
    assert ph.points(-3.33, reference="序时进度") == "低于序时进度3.3个百分点"


# --- periods -------------------------------------------------------------------------------

def test_month_ranges_and_january():
    assert ph.month_range(6) == "1—6月"
    assert ph.month_range(12) == "1—12月"
    assert ph.month_range(1) == "1月"
    assert ph.period_label("2023-01") == "2023年1月"
    assert ph.period_label("2023-06") == "2023年1—6月"
    with pytest.raises(ValueError):
        ph.month_range(13)


def test_quarter_labels():
    assert [ph.quarter_label(m) for m in (3, 6, 9, 12)] == ["一季度", "上半年", "前三季度", "全年"]
    assert ph.quarter_label(5) is None


def test_as_of_labels():
    assert ph.as_of_label("2023-03", "2023-05", quarterly=True) == "一季度"
    assert ph.as_of_label("2022-12", "2023-02", quarterly=True) == "2022年全年"
    assert ph.as_of_label("2023-06", "2023-06", quarterly=True) is None
    assert ph.as_of_label("2023-04", "2023-06", quarterly=False) == "截至2023年4月"


def test_names_get_the_report_month():
    assert ph.name_for_period("规上工业增加值增速（1—N月）", 6) == "规上工业增加值增速（1—6月）"
    assert ph.name_for_period("规上工业增加值增速（1–N月）", 1) == "规上工业增加值增速（1月）"


# --- money, rates, per-mu, counts ----------------------------------------------------------

def test_money_switches_from_wan_to_yi_with_two_decimals():
    assert ph.money_wan(8500) == "8500.00万元"
    assert ph.money_wan(9999.994) == "9999.99万元"
    assert ph.money_wan(9999.996) == "1.00亿元"  # rounds to 1亿 -> 亿元
    assert ph.money_wan(12345.678) == "1.23亿元"
    assert ph.money_yi(0.85) == "8500.00万元"
    assert ph.money_yi(4.2) == "4.20亿元"


def test_rates_one_decimal_per_mu_two_decimals():
    assert ph.rate(43.25) == "43.3%"
    assert ph.rate(15) == "15.0%"
    assert ph.fraction_pct(0.83333) == "83.3%"
    assert ph.per_unit(8.405) == "8.41万元/亩"
    assert ph.per_unit(7.05, "万元/人") == "7.05万元/人"
    assert ph.quantity(16.8234, "万元/亩") == "16.82万元/亩"


def test_counts_are_integers_with_measure_words():
    assert ph.count(12, "家") == "12家"
    assert ph.count(3.0, "个") == "3个"
    assert ph.quantity(5, "项") == "5项"
    assert ph.quantity(13.0, "台") == "13台"
    with pytest.raises(ValueError):
        ph.count(3, "吨")


def test_no_minus_zero_and_table_numbers():
    assert ph.fixed(-0.004, 2) == "0.00"
    assert ph.number(200, "亩") == "200.00"
    assert ph.number(15, "%") == "15.0"
    assert ph.number(15, "家") == "15"


# --- status words --------------------------------------------------------------------------

def test_status_words():
    assert [ph.status_word(s) for s in ("done", "green", "yellow", "red", "no_data")] == [
        "已完成目标", "达到序时进度", "略低于序时进度", "明显落后序时进度", "暂无数据"]
    assert [ph.status_colour(s) for s in ("done", "green", "yellow", "red", "no_data")] == [
        "绿", "绿", "黄", "红", "灰"]
    with pytest.raises(ValueError):
        ph.status_word("amber")


# --- dates and issue numbers ---------------------------------------------------------------

def test_dates_without_zero_padding():
    assert ph.date_cn(dt.date(2023, 7, 10)) == "2023年7月10日"
    assert ph.date_cn(dt.date(2023, 1, 5)) == "2023年1月5日"
    assert ph.datetime_cn("2023-07-03 09:05:00") == "2023年7月3日 09:05"


def test_issue_date_is_the_tenth_of_the_next_month():
    assert ph.issue_date("2023-06") == dt.date(2023, 7, 10)
    assert ph.issue_date("2023-12") == dt.date(2024, 1, 10)


def test_issue_numbers_run_on_from_the_first_issue():
    per_year = {"first_issue": {"period": "2022-07", "number": 1}, "numbering": "per_year"}
    assert ph.issue_number(per_year, "2022-07") == 1
    assert ph.issue_number(per_year, "2022-12") == 6
    assert ph.issue_number(per_year, "2023-01") == 1  # restarts each year
    assert ph.issue_number(per_year, "2023-06") == 6
    continuous = {"first_issue": {"period": "2022-07", "number": 1}, "numbering": "continuous"}
    assert ph.issue_number(continuous, "2023-06") == 12
    with pytest.raises(ValueError):
        ph.issue_number(per_year, "2022-06")


def test_chinese_ordinals():
    assert ph.ordinal_heading(1) == "一、"
    assert ph.ordinal_subheading(5) == "（五）"
    assert ph.chinese_numeral(10) == "十" and ph.chinese_numeral(12) == "十二" and ph.chinese_numeral(20) == "二十"


def test_amounts_are_redacted_from_messages():
    msg = "税收实际贡献为负数（-12.50万元），2023-06期，跳变超过10倍"
    out = ph.redact_amounts(msg)
    assert "12.50" not in out and "＊万元" in out
    assert "2023-06" in out and "10倍" in out  # periods and factors are kept


def test_status_words_follow_the_kind():
    # 序时进度 applies only to 累计 and 当年 targets (bulletin.md → Chinese phrasing rules)
    for kind in ("cumulative", "this_year"):
        assert [ph.status_word(s, kind) for s in ("done", "green", "yellow", "red", "no_data")] == [
            "已完成目标", "达到序时进度", "略低于序时进度", "明显落后序时进度", "暂无数据"]
    for kind in ("level", "rate", "annualized"):
        assert [ph.status_word(s, kind) for s in ("green", "yellow", "red", "no_data")] == [
            "达到目标", "接近目标", "低于目标", "暂无数据"]
        assert "序时进度" not in "".join(ph.status_word(s, kind) for s in ph.STATUS_ORDER)
    with pytest.raises(ValueError):
        ph.status_word("amber", "level")


def test_status_tally_leaves_out_empty_categories():
    words = ["达到目标", "暂无数据", "已完成目标", "达到目标", "低于目标"]
    assert ph.status_tally(words) == "已完成目标1项，达到目标2项，低于目标1项，暂无数据1项"
    assert "0项" not in ph.status_tally(["达到序时进度"])
    assert ph.status_tally([]) == ""
    lagging = ["略低于序时进度", "低于目标", "明显落后序时进度", "低于目标"]
    assert ph.status_tally(lagging, order=ph.LAGGING_WORD_ORDER) == "明显落后序时进度1项，低于目标2项，略低于序时进度1项"


def test_percentages_keep_two_decimals_when_one_would_hide_the_gap():
    # 0.94% against a 1.0% target is 94.0% done: "0.9%" would read as 90.0%
    assert ph.rate(0.94, against=1.0) == "0.94%"
    assert ph.number(0.94, "%", against=1.0) == "0.94"
    assert ph.rate(0.96, against=1.0) == "0.96%"   # not "1.0%", which would read as done
    # one decimal where it gives the 完成率 printed beside it
    assert ph.rate(43.2, against=45) == "43.2%"
    assert ph.number(100, "%", against=100) == "100.0"
    assert ph.rate(0.94) == "0.9%"                  # no target: the plain rule
    assert ph.number(200, "亩", against=300) == "200.00"


def test_bulletin_subject():
    bcfg = {"subject": "【进展通报】某县攻坚行动（{year}年第{number}期）",
            "first_issue": {"period": "2022-07", "number": 1}, "numbering": "per_year"}
    assert ph.bulletin_subject(bcfg, "2023-06") == "【进展通报】某县攻坚行动（2023年第6期）"
