"""统一社会信用代码 (Unified Social Credit Code), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capital letters without
I, O, Z, S, V). The last one is a check character: with weights 3**i mod 31,
check = 31 - (sum of value*weight mod 31), and 31 maps to 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    bad = sorted({ch for ch in first17 if ch not in _VALUE})
    if bad:
        raise ValueError(f"characters not allowed in a credit code: {''.join(bad)}")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str:
    """Why `code` is not a valid credit code, in plain words; "" when it is valid."""
    if len(code) != LENGTH:
        return f"统一社会信用代码应为18位，“{code}”为{len(code)}位"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"统一社会信用代码“{code}”含有不允许的字符：{''.join(bad)}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码“{code}”的校验码不正确（按GB 32100-2015应为{expected}）"
    return ""


def is_valid_uscc(code: str) -> bool:
    return uscc_problem(code) == ""


def make_uscc(body17: str) -> str:
    """Complete 17 characters into a valid code (used by the sample-data generator and tests)."""
    return body17 + check_character(body17)


_LUT = np.full(256, -1, dtype=np.int64)
for _ch, _v in _VALUE.items():
    _LUT[ord(_ch)] = _v
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)


def uscc_problems(codes: Sequence[str]) -> list[str]:
    """`uscc_problem` for many codes at once: valid codes are checked with array arithmetic,
    and only the invalid ones are described one by one."""
    codes = list(codes)
    out = [""] * len(codes)
    right_length = [i for i, c in enumerate(codes) if len(c) == LENGTH]
    ok = np.zeros(len(codes), dtype=bool)
    if right_length:
        raw = "".join(codes[i] for i in right_length).encode("ascii", errors="replace")
        vals = _LUT[np.frombuffer(raw, dtype=np.uint8).reshape(-1, LENGTH)]
        chars_ok = (vals >= 0).all(axis=1)
        check = (31 - (vals[:, :17] @ _WEIGHTS) % 31) % 31
        ok[right_length] = chars_ok & (check == vals[:, 17])
    for i in np.flatnonzero(~ok):
        out[i] = uscc_problem(codes[i])
    return out
