"""Funnel stage 5, confirmation on an earlier window: the prior p-value of each row against its
plain twin (with and without block cuts), the stage's place in the funnel and its reason, and
blocks of test times giving the rows of one whole run."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from statarb.alpha.selection.confirmation import confirming_pvalues, confirming_pvalues_ref
from statarb.alpha.selection.funnel import decide
from tests.alpha.test_funnel import row, stats
from tests.alpha.test_screening_blocks import _decide_in_blocks
from tests.config_helpers import alpha_config


def _timelines(rng: np.random.Generator) -> dict[str, list[tuple[int, int, float]]]:
    """Pairs with different numbers of tests of ``(bars_seen, n_obs, p)``: windows growing to 40
    bars, uneven steps (gaps in the legs, a step of 0 bars), some p-values NaN."""
    out = {}
    for k in range(6):
        end, tests = 0, []
        for _ in range(int(rng.integers(0, 25))):
            end += int(rng.choice([0, 3, 10, 10, 10, 17]))
            nan = rng.random() < 0.1 or end == 0  # an empty window has no p-value
            tests.append((end, min(end, 40), float("nan") if nan else float(rng.random())))
        out[f"P{k}"] = tests
    return out


def _block(tl: dict[str, list[tuple[int, int, float]]], lo: int, hi: int):
    """Tests ``lo <= i < hi`` sorted by time then pair (as a funnel block is)."""
    rows = sorted((i, k, *v[i]) for k, v in tl.items() for i in range(lo, min(hi, len(v))))
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 5
    return pl.Series(cols[1], dtype=pl.String), *(np.array(c) for c in cols[2:]), rows


@pytest.mark.parametrize("max_shared", [0.0, 0.5, 0.8])
def test_confirming_pvalues_equal_the_twin_for_any_block_cut(max_shared):
    rng = np.random.default_rng(int(max_shared * 10))
    for _ in range(30):
        tl = _timelines(rng)
        want = {k: confirming_pvalues_ref(v, max_shared) for k, v in tl.items()}
        edges = [0, *sorted(rng.choice(np.arange(1, 25), 3, replace=False).tolist()), 25]
        recent = None
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            pids, end, n_obs, p, rows = _block(tl, lo, hi)
            prior, recent = confirming_pvalues(pids, end, n_obs, p, max_shared, recent)
            exp = np.array([want[k][i] for i, k, *_ in rows], np.float64)
            np.testing.assert_array_equal(prior, exp)
        # carried: the tests after the last row's limit and the latest one at or before it
        for k, ends in recent.select("pair_id", "recent_end").iter_rows():
            e, n, _ = tl[k][-1]
            lim = e - n + int(np.floor(max_shared * n))
            past = [t[0] for t in tl[k] if t[0] <= lim][-1:]
            assert ends == sorted(set(past + [t[0] for t in tl[k] if t[0] > lim])), k


def test_the_confirming_test_shares_at_most_the_share_of_bars():
    """7,800-bar windows moved by 390 bars (a session): half the window is 10 sessions back;
    when 400 bars are missing from the legs after day 4, a window spans more test times and
    the confirming test is the one half a window of the pair's bars back, not 10 test times."""
    ends = [7800 + 390 * d for d in range(14)]
    tests = [(e, 7800, d / 100) for d, e in enumerate(ends)]
    assert confirming_pvalues_ref(tests, 0.5)[10:] == [0.0, 0.01, 0.02, 0.03]
    assert np.isnan(confirming_pvalues_ref(tests, 0.0)).all()  # disjoint: 20 sessions back
    gap = [(e if d < 5 else e - 400, 7800, d / 100) for d, e in enumerate(ends)]
    got = confirming_pvalues(
        pl.Series(["A_B"] * 14), *(np.array(c) for c in zip(*gap, strict=True)), 0.5
    )[0]
    # after the gap a window spans one more test time: the confirming test is 12 tests back
    assert np.isnan(got[:12]).all()
    np.testing.assert_array_equal(got[12:], [0.0, 0.01])


def _sel(max_shared: float | None, enter: int = 1):
    return alpha_config(
        selection__confirmation__max_shared=max_shared, selection__persistence__enter_after=enter
    ).selection


def _rows(pid: str, pvalues: list[float], **kw) -> list[dict]:
    """One row per session of 3-session windows (1,170 bars moved by 390): with max_shared 1/3
    the confirming test is the one 2 sessions earlier."""
    return [
        row(pid, d, p, n_obs=1170, bars_seen=1170 + 390 * d, **kw) for d, p in enumerate(pvalues)
    ]


THIRD = 1 / 3


def test_a_pass_needs_the_earlier_test_below_the_level():
    """AAA_BBB passes from day 2 on; confirmed by the test 2 sessions earlier it passes only from
    day 4 (day 2's raw p < 0.05); CCC_DDD's passes at days 3-5 rest on days 1-3, of which only
    day 3 is below the level, so only its day-5 test passes."""
    rows = _rows("AAA_BBB", [0.4, 0.2, 1e-8, 1e-8, 1e-8, 1e-8])
    rows += _rows("CCC_DDD", [0.6, 0.3, 0.2, 1e-9, 1e-9, 1e-9])
    off = decide(stats(rows), _sel(None)).sort("pair_id", "test_ts")
    on = decide(stats(rows), _sel(THIRD)).sort("pair_id", "test_ts")
    ab_off = off.filter(pl.col("pair_id") == "AAA_BBB")["tradable"].to_list()
    assert ab_off == [False, False, True, True, True, True]
    ab = on.filter(pl.col("pair_id") == "AAA_BBB")
    assert ab["tradable"].to_list() == [False, False, False, False, True, True]
    reasons = ab["reason"].to_list()
    tail = " at the last test sharing <= 0.333333 of the window"
    assert reasons[2] == "confirmation: p=0.4 >= 0.05" + tail
    assert reasons[3] == "confirmation: p=0.2 >= 0.05" + tail
    assert reasons[0].startswith("multiple_testing:")  # the earlier stages come first
    cd = on.filter(pl.col("pair_id") == "CCC_DDD")
    assert cd["tradable"].to_list() == [False, False, False, False, False, True]
    # no earlier test at all: the reason says so (undefined prior)
    first = decide(stats(_rows("EEE_FFF", [1e-9])), _sel(THIRD))
    assert first["reason"][0] == "confirmation: p=undefined >= 0.05" + tail
    assert first["pass_matching"][0]  # matching comes first and it had no competitor
    assert first["pass_confirmation"][0] is False and first["confirm_pvalue"][0] is None
    assert ab["confirm_pvalue"].to_list() == [None, None, 0.4, 0.2, 1e-8, 1e-8]
    assert ab["pass_confirmation"].to_list() == [False, False, False, False, True, True]
    assert off["pass_confirmation"].null_count() == off.height  # stage off: not evaluated
    assert off["confirm_pvalue"].null_count() == off.height


def test_an_unconfirmed_candidate_still_holds_its_legs():
    """Matching comes before confirmation: the strongest candidate on a leg wins it on today's
    evidence (transitivity, :mod:`statarb.alpha.selection.matching`) even while it waits for its
    confirmation, so the weaker AAA_CCC does not take leg AAA in the meantime."""
    rows = _rows("AAA_BBB", [0.5, 0.5, 1e-12, 1e-12, 1e-12]) + _rows("AAA_CCC", [1e-6] * 5)

    def tradable(sel) -> dict[str, list[bool]]:
        d = decide(stats(rows), sel).sort("pair_id", "test_ts")
        return {k: g["tradable"].to_list() for (k,), g in d.group_by(["pair_id"])}

    on = decide(stats(rows), _sel(THIRD)).sort("pair_id", "test_ts")
    ab = on.filter(pl.col("pair_id") == "AAA_BBB")
    assert ab["pass_matching"].to_list()[2:] == [True] * 3  # wins AAA from day 2 ...
    assert ab["pass_confirmation"].to_list()[2:] == [False, False, True]  # ... confirmed day 4
    assert ab["reason"][3].startswith("confirmation: p=0.5")
    assert tradable(_sel(THIRD)) == {"AAA_BBB": [False] * 4 + [True], "AAA_CCC": [False] * 5}
    assert tradable(_sel(None)) == {
        "AAA_BBB": [False, False, True, True, True],
        "AAA_CCC": [True, True, True, False, False],
    }  # fmt: skip (held: exit after 2)


def test_confirmation_blocks_equal_whole():
    """The recent tests are carried from block to block; a pair missing from a block keeps its
    own (its bars go on: the gap is in the test times, not in the legs)."""
    rng = np.random.default_rng(5)
    rows = []
    for day in range(12):
        for pid in ("AAA_BBB", "CCC_DDD", "EEE_FFF"):
            if pid == "CCC_DDD" and day in (4, 5, 6):
                continue
            p = float(rng.choice([1e-9, 1e-7, 0.02, 0.2]))
            rows.append(row(pid, day, p, n_obs=1170, bars_seen=1170 + 390 * day))
    sel = _sel(THIRD, enter=2)
    whole = decide(stats(rows), sel)
    assert whole["reason"].str.starts_with("confirmation:").any()
    assert whole["tradable"].any()
    for cuts in ([5], [1, 4, 6], list(range(1, 12))):
        parts, carry = _decide_in_blocks(rows, sel, [0, *cuts, 12])
        assert pl.concat(parts).equals(whole), cuts
        assert carry["recent_p"].list.len().max() <= 3
