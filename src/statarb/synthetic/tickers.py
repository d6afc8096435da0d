"""Ticker names of the synthetic universe: 40 fixed names, then generated ones.

A universe of ``n <= 40`` symbols uses the first ``n`` of :data:`TICKERS` (the default data set).
Larger universes add generated four-letter names: name ``k`` spells
``(k * 7919 + 12345) mod 26^4`` in base 26 with the letters ``A..Z``. 7919 is prime and coprime
to 26, so ``k -> name`` is a bijection on ``0 .. 26^4 - 1`` and names never repeat; names equal
to a fixed ticker or to the configured ``unknown_ticker`` (upper-cased) are skipped. Every name
matches ingestion's ticker alphabet ``^[A-Z0-9]+([.-][A-Z0-9]+)*$`` (``ingestion.validation``).
"""

from __future__ import annotations

import string

TICKERS = (
    "ALDR", "BRQX", "CAVN", "DENT", "ELMO", "FAXR", "GORV", "HALD", "IVRA", "JUNO",
    "KESL", "LUMR", "MAPX", "NORV", "OPTA", "PRYX", "QUIL", "RAVN", "SOLX", "TARN",
    "UMBR", "VEXA", "WOLD", "XENT", "YARB", "ZEPH", "ACRN", "BOLT", "CIRX", "DRAV",
    "EXAL", "FYRN", "GLEN", "HYPR", "INDO", "JAXT", "KORV", "LYNX", "MERI", "NEXL",
)  # fmt: skip

_SPACE = 26**4
_MULT, _SHIFT = 7919, 12345


def generated_name(k: int) -> str:
    """The ``k``-th generated four-letter name (see the module docstring)."""
    v = (k * _MULT + _SHIFT) % _SPACE
    letters = []
    for _ in range(4):
        v, r = divmod(v, 26)
        letters.append(string.ascii_uppercase[r])
    return "".join(reversed(letters))


def universe(n: int, unknown_ticker: str) -> tuple[str, ...]:
    """``n`` distinct tickers, sorted; never ``unknown_ticker`` (compared upper-cased)."""
    if n < 2:
        raise ValueError(f"n_symbols must be >= 2, got {n}")
    banned = {unknown_ticker.strip().upper()}
    names = [t for t in TICKERS[:n] if t not in banned]
    taken = set(TICKERS) | banned
    k = 0
    while len(names) < n:
        if k >= _SPACE:
            raise ValueError(f"n_symbols {n} exceeds the {_SPACE} generated ticker names")
        name = generated_name(k)
        k += 1
        if name not in taken:
            taken.add(name)
            names.append(name)
    return tuple(sorted(names))
