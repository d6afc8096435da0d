"""The funnel streamed by blocks of test times: the persistence state carried across blocks, and
every block size giving exactly the rows of deciding the whole universe at once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from statarb.alpha.screening_blocks import concat_blocks, iter_screen_pairs, times_per_block
from statarb.alpha.selection.funnel import decide, decide_block
from statarb.alpha.selection.persistence import Carry, hysteresis, hysteresis_ref
from tests.alpha.test_funnel import NO_CONFIRMATION, T0, row, stats
from tests.alpha.test_screening import CREATED, PAIRS, cfg, daily, make_prices
from tests.config_helpers import alpha_config


@pytest.mark.parametrize(("enter", "exit_"), [(1, 1), (3, 2), (2, 4)])
def test_hysteresis_cut_anywhere_with_carry_equals_whole(enter, exit_):
    rng = np.random.default_rng(7)
    for _ in range(40):
        seq = rng.random(int(rng.integers(2, 50))) < rng.uniform(0.2, 0.9)
        whole_streak, whole_on, _ = hysteresis(seq, np.array([0, seq.size]), enter, exit_)
        cut = int(rng.integers(1, seq.size))
        s1, on1, carry = hysteresis(seq[:cut], np.array([0, cut]), enter, exit_)
        s2, on2, _ = hysteresis(seq[cut:], np.array([0, seq.size - cut]), enter, exit_, carry)
        np.testing.assert_array_equal(np.concatenate([on1, on2]), whole_on)
        np.testing.assert_array_equal(np.concatenate([s1, s2]), whole_streak)
        # the plain twin, restarted from the carried state, agrees
        start = (int(carry.ok[0]), int(carry.bad[0]), bool(carry.on[0]))
        assert hysteresis_ref(list(seq[cut:]), enter, exit_, start) == on2.tolist()


def test_carry_fresh_is_a_new_pair():
    c = Carry.fresh(3)
    assert c.ok.tolist() == [0, 0, 0] and c.bad.tolist() == [0, 0, 0] and not c.on.any()


def test_decide_by_blocks_equals_decide_whole_with_pairs_entering_and_leaving():
    """A pair absent from a block keeps its state; a pair first seen later starts fresh."""
    sel = _funnel(enter=2, exit_=2)
    rng = np.random.default_rng(3)
    rows = []
    for day in range(9):
        for pid in ("AAA_BBB", "CCC_DDD", "EEE_FFF"):
            if pid == "CCC_DDD" and day in (3, 4):  # leaves, then comes back
                continue
            if pid == "EEE_FFF" and day < 5:  # enters late
                continue
            rows.append(row(pid, day, float(rng.choice([1e-9, 1e-7, 0.2]))))
    whole = decide(stats(rows), sel)
    assert whole["tradable"].any() and not whole["tradable"].all()
    for cuts in ([3], [1, 4, 6], list(range(1, 9))):
        parts, carry = _decide_in_blocks(rows, sel, [0, *cuts, 9])
        assert pl.concat(parts).equals(whole), cuts
        assert sorted(carry["pair_id"].to_list()) == ["AAA_BBB", "CCC_DDD", "EEE_FFF"]


def _funnel(enter: int, exit_: int):
    """The shipped selection settings with persistence ``enter`` / ``exit_`` (no confirmation:
    :mod:`tests.alpha.test_confirmation` cuts blocks with it)."""
    return alpha_config(
        selection__persistence__enter_after=enter, selection__persistence__exit_after=exit_,
        **NO_CONFIRMATION,
    ).selection  # fmt: skip


def _decide_in_blocks(rows: list[dict], sel, edges: list[int]):
    """:func:`decide_block` on the rows of days ``[edges[i], edges[i + 1])`` in order ->
    ``(decided blocks, last carry)``."""
    carry, parts = None, []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        block = [r for r in rows if lo <= (r["test_ts"] - T0).days < hi]
        d, carry = decide_block(stats(block), sel, carry)
        parts.append(d)
    return parts, carry


def test_times_per_block():
    assert times_per_block(100, 50, None) == 50
    assert times_per_block(100, 50, 1_000) == 10
    assert times_per_block(100, 50, 10) == 1  # at least one test time
    assert times_per_block(100, 50, 10**9) == 50
    assert times_per_block(0, 5, 10) == 5


@pytest.mark.parametrize("pair_tests", [3, 4, 7, None])
def test_streamed_screening_equals_one_block(pair_tests):
    """Spilled by blocks of 1, 1, 2 test times or not at all: identical tables, in time order."""
    prices = make_prices(n_days=10)
    sched = daily(prices)[2:]
    c = cfg(200, tests=("eg", "johansen"), selection__persistence__enter_after=2)
    whole_c, whole_s = concat_blocks(iter_screen_pairs(prices, PAIRS, sched, c, CREATED))
    assert whole_c["is_cointegrated"].any()
    blocks = list(
        iter_screen_pairs(prices, PAIRS, sched, c, CREATED, chunk_pairs=2,
                          chunk_pair_tests=pair_tests)
    )  # fmt: skip
    per = times_per_block(len(PAIRS), len(sched), pair_tests)
    assert len(blocks) == -(-len(sched) // per)
    for (bc, _), lo in zip(blocks, range(0, len(sched), per), strict=True):
        assert bc["test_ts"].unique().sort().to_list() == sched[lo : lo + per]
    got_c, got_s = concat_blocks(iter(blocks))
    assert got_c.equals(whole_c)
    assert got_s.equals(whole_s)


def test_streamed_screening_of_no_pairs_yields_empty_tables():
    prices = make_prices(n_days=4)
    blocks = list(iter_screen_pairs(prices, [], daily(prices), cfg(200), CREATED,
                                    chunk_pair_tests=1))  # fmt: skip
    assert len(blocks) == 1 and blocks[0][0].height == 0 and blocks[0][1].height == 0
    assert "is_cointegrated" in blocks[0][0].columns


def test_block_rows_are_stamped_at_their_test_time():
    prices = make_prices(n_days=6)
    sched = daily(prices)[2:]
    c = cfg(200)
    for coint, sel_log in iter_screen_pairs(prices, PAIRS, sched, c, CREATED, chunk_pair_tests=3):
        assert coint.height == len(PAIRS) and sel_log.height == len(PAIRS)
        assert coint["test_ts"].n_unique() == 1
        assert (coint["created_at"] == CREATED).all()
        assert coint["test_ts"][0] in sched


def test_leg_reservations_carry_across_blocks():
    """Pairs sharing legs with 3-session windows: the reservations made in one block hold in the
    next, so every cut gives the rows of deciding the whole timeline at once."""
    from datetime import timedelta

    sel = _funnel(enter=1, exit_=1)
    rng = np.random.default_rng(11)
    rows = []
    for day in range(14):
        start = T0 + timedelta(days=day - 2, hours=-7)
        for pid in ("AAA_BBB", "AAA_CCC", "BBB_DDD", "CCC_DDD"):
            rows.append(row(pid, day, float(rng.choice([1e-9, 1e-7, 0.3])), window_start=start))
    whole = decide(stats(rows), sel)
    assert whole["reason"].str.contains("is reserved for").any()  # the case is exercised
    for cuts in ([4], [2, 5, 9], list(range(1, 14))):
        parts, _ = _decide_in_blocks(rows, sel, [0, *cuts, 14])
        assert pl.concat(parts).equals(whole), cuts
