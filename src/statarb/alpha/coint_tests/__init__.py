"""Cointegration tests behind one protocol and one result type (see ``base``)."""

from statarb.alpha.coint_tests.base import CointBatch, CointegrationTest
from statarb.alpha.coint_tests.registry import TESTS, build_tests

__all__ = ["TESTS", "CointBatch", "CointegrationTest", "build_tests"]
