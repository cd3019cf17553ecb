"""The USCC check (mfg_indicators.uscc) cross-checked against python-stdnum's ``stdnum.cn.uscc`` on
many generated codes: the same check digit for every body, the same verdict on valid codes and
on codes broken in each way a delivery breaks them (a mistyped character, swapped neighbours, a
letter GB 32100 excludes, a wrong length).

Where the two differ, they differ on purpose, and the last tests pin it: ours reads a cell as
delivered (no stripping of spaces or dashes, no upper-casing — such a cell is reported, not
silently repaired), and ours allows a letter in the first two places (登记管理部门代码 and
机构类别代码 may be letters under GB 32100-2015, e.g. N for 农业 registrations, Y for 其他), where
stdnum requires the first eight characters to be digits.
"""

from __future__ import annotations

import random

import pytest
from stdnum.cn import uscc as stdnum_uscc

from mfg_indicators import uscc

N = 20_000
DIGITS = "0123456789"
EXCLUDED = "IOSVZ"  # letters the code never uses


def _body(rng: random.Random) -> str:
    """17 characters as stdnum reads them: eight digits (authority, type, region), then nine of
    the organisation code's 31 characters."""
    return "".join(rng.choice(DIGITS) for _ in range(8)) + "".join(rng.choice(uscc.CHARSET) for _ in range(9))


@pytest.fixture(scope="module")
def codes() -> list[str]:
    rng = random.Random(20231201)
    return [uscc.make(_body(rng)) for _ in range(N)]


def test_alphabet_and_weights_are_the_standard_ones():
    assert uscc.CHARSET == stdnum_uscc._alphabet and len(uscc.CHARSET) == 31
    assert not set(EXCLUDED) & set(uscc.CHARSET)
    # stdnum's documented example
    assert uscc.is_valid("91110000600037341L") and stdnum_uscc.is_valid("91110000600037341L")
    assert uscc.check_char("91110000600037341") == "L"


def test_same_check_digit_for_every_body(codes):
    differ = [c for c in codes if uscc.check_char(c[:17]) != stdnum_uscc.calc_check_digit(c[:17])]
    assert not differ, differ[:5]
    # every one of the 31 check characters occurs, so no branch of the modulus goes untested
    assert {c[17] for c in codes} == set(uscc.CHARSET)


def test_both_accept_the_valid_codes(codes):
    assert all(uscc.is_valid(c) for c in codes)
    assert all(stdnum_uscc.is_valid(c) for c in codes)


def _mistyped(rng: random.Random, code: str) -> str:
    i = rng.randrange(18)
    alphabet = DIGITS if i < 8 else uscc.CHARSET
    return code[:i] + rng.choice([ch for ch in alphabet if ch != code[i]]) + code[i + 1:]


def _swapped(rng: random.Random, code: str) -> str:
    i = rng.randrange(17)
    while code[i] == code[i + 1]:
        i = rng.randrange(17)
    return code[:i] + code[i + 1] + code[i] + code[i + 2:]


def _excluded_letter(rng: random.Random, code: str) -> str:
    i = rng.randrange(8, 18)
    return code[:i] + rng.choice(EXCLUDED) + code[i + 1:]


def _wrong_length(rng: random.Random, code: str) -> str:
    return code[:rng.randrange(18)] if rng.random() < 0.5 else code + rng.choice(uscc.CHARSET)


@pytest.mark.parametrize("corrupt", [_mistyped, _swapped, _excluded_letter, _wrong_length])
def test_same_verdict_on_broken_codes(codes, corrupt):
    rng = random.Random(corrupt.__name__)
    broken = [corrupt(rng, c) for c in codes]
    disagree = [b for b in broken if uscc.is_valid(b) != stdnum_uscc.is_valid(b)]
    assert not disagree, disagree[:5]
    rejected = sum(not uscc.is_valid(b) for b in broken)
    if corrupt in (_mistyped, _excluded_letter, _wrong_length):
        # a single substitution always changes the weighted sum mod 31 (31 is prime, weights < 31)
        assert rejected == len(broken)
    else:
        # a transposition is caught unless the two weights agree mod 31 on that difference: rare
        assert rejected >= 0.95 * len(broken)


def test_the_differences_are_deliberate():
    code = "91331125MA2A00001" + uscc.check_char("91331125MA2A00001")
    # a cell is read as delivered: separators, spaces and lower case are findings, not repairs
    for cell in (code.lower(), f" {code}", f"{code[:8]}-{code[8:]}", f"{code[:2]} {code[2:]}"):
        assert stdnum_uscc.is_valid(cell) and not uscc.is_valid(cell), cell
    # letters allowed in the first two places by GB 32100-2015 (here N: 农业, 2: 农民专业合作社)
    farm = "N2331125MA2A00001"
    farm += uscc.check_char(farm)
    assert uscc.is_valid(farm) and not stdnum_uscc.is_valid(farm)
    assert uscc.check_char(farm[:17]) == stdnum_uscc.calc_check_digit(farm[:17])
    # a non-string cell is no code
    assert not uscc.is_valid(913311250000000001)
