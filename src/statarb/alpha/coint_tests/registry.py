"""Registered cointegration tests: name -> class (see :mod:`statarb.alpha.coint_tests.base`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statarb.alpha.coint_tests.base import CointegrationTest
from statarb.alpha.coint_tests.eg import EngleGrangerTest
from statarb.alpha.coint_tests.johansen import JohansenTraceTest
from statarb.config.strict import ConfigError

TESTS: dict[str, type] = {
    EngleGrangerTest.name: EngleGrangerTest,
    JohansenTraceTest.name: JohansenTraceTest,
}


def build_tests(
    names: list[str], params: Mapping[str, Mapping[str, Any]], path: str = "alpha.screening"
) -> list[CointegrationTest]:
    """Instantiate the tests ``names`` with their ``params`` (validated by each test's model)."""
    unknown = [n for n in names if n not in TESTS]
    if unknown:
        raise ConfigError(f"{path}.tests: unknown test(s) {unknown}; registered: {sorted(TESTS)}")
    extra = sorted(set(params) - set(TESTS))
    if extra:
        raise ConfigError(f"{path}.params: unknown test(s) {extra}; registered: {sorted(TESTS)}")
    out = []
    for name in names:
        cls = TESTS[name]
        if name not in params:
            raise ConfigError(f"{path}.params.{name}: parameters of test {name!r} are missing")
        out.append(cls(cls.Params.from_params(params[name], f"{path}.params.{name}")))
    return out
