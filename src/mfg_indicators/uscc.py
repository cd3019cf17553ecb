"""Unified social credit code (统一社会信用代码, GB 32100-2015): format and check digit.

Kept beside python-stdnum's ``stdnum.cn.uscc`` (tests/test_uscc.py checks both agree on the check
digit) for two reasons: a feed cell is judged as delivered (stdnum strips spaces and dashes and
upper-cases, which would accept a cell the warehouse then stores differently from the
department's records), and GB 32100 lets the first two characters (登记管理部门代码,
机构类别代码) be letters, which stdnum rejects. It is also the rule the GX expectation
(gx_support) vectorises.
"""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def check_char(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: object) -> bool:
    if not isinstance(code, str) or not PATTERN.match(code):
        return False
    return check_char(code[:17]) == code[17]


def make(body17: str) -> str:
    """A valid code from 17 characters (used by the sample generator and tests)."""
    if len(body17) != 17 or any(ch not in CHARSET for ch in body17):
        raise ValueError(f"not 17 USCC characters: {body17!r}")
    return body17 + check_char(body17)
