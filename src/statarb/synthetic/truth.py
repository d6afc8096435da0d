"""Ground-truth records of the synthetic market (``data/01_raw/ground_truth``).

``pairs.json`` lists every constructed pair with its parameters, then every other combination of
two names as not cointegrated; ``beta_paths.parquet`` the beta of each constructed pair at every
bar; ``anomalies.json`` each injected anomaly with its file and 1-based data row;
``corporate_actions.json`` the actions and the expected ``adj_factor`` segments.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from statarb.synthetic.anomalies import AnomalyPlan
from statarb.synthetic.corporate import CorporateAction, factor_segments
from statarb.synthetic.market import MarketPlan
from statarb.synthetic.processes import ou_step_variance
from statarb.synthetic.vendor_files import bar_file_name


def utc_iso(us: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of epoch microseconds."""
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(us))).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def dump_json(path: Path, obj: object) -> None:
    """Indented, key-sorted JSON with a final newline."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def pair_records(m: MarketPlan | Any) -> list[dict]:
    """``pairs.json`` records: constructed pairs first, then every other combination."""
    clock = m.clock
    out: list[dict] = []
    built = {p.pair_id for p in m.pairs}
    for p in m.pairs:
        out.append(
            {
                "pair_id": p.pair_id,
                "symbol_a": p.symbol_a,
                "symbol_b": p.symbol_b,
                "cointegrated": True,
                "kind": p.kind,
                "beta_start": float(p.beta[0]),
                "beta_end": float(p.beta[-1]),
                "alpha": p.alpha,
                "spread_mean": p.alpha + p.mu,
                "ou": {
                    "theta_per_bar": p.theta,
                    "mu": p.mu,
                    "sigma_per_bar": p.sigma,
                    "half_life_bars": p.half_life,
                    "step_variance": ou_step_variance(p.theta, p.sigma),
                },
                "break_ts": None if p.break_bar is None else utc_iso(clock.utc_us[p.break_bar]),
                "sector": p.sector,
            }
        )
    for ia, ib in itertools.combinations(range(len(m.symbols)), 2):
        pid = f"{m.symbols[ia]}_{m.symbols[ib]}"
        if pid in built:
            continue
        same = m.sectors[ia] == m.sectors[ib]
        out.append(
            {
                "pair_id": pid,
                "symbol_a": m.symbols[ia],
                "symbol_b": m.symbols[ib],
                "cointegrated": False,
                "kind": "none",
                "beta_start": None,
                "beta_end": None,
                "alpha": None,
                "spread_mean": None,
                "ou": None,
                "break_ts": None,
                "sector": m.sectors[ia] if same else None,
            }
        )
    return out


def anomaly_records(m: MarketPlan, plan: AnomalyPlan, rows: dict[int, int]) -> list[dict]:
    """``anomalies.json`` records with file, 1-based data row (null for missing bars) and rule;
    ``rows`` maps a row uid to its data row in its day's file."""
    cfg, clock = m.config, m.clock
    out = []
    for r in plan.records:
        t, j = r["bar"], r["sym"]
        rule = r["rule"]
        day = clock.days[clock.day_index[t]]
        rec = {
            "file": "bars/" + bar_file_name(cfg.file_prefix, day, cfg.bar_format),
            "row": None if r["uid"] is None else int(rows[r["uid"]]),
            "rule": rule,
            "symbol": cfg.unknown_ticker if rule == "unknown_ticker" else m.symbols[j],
            "datetime": utc_iso(clock.utc_us[t]),
        }
        rec.update({k: v for k, v in r.items() if k not in ("rule", "bar", "sym", "uid")})
        out.append(rec)
    return sorted(out, key=lambda x: (x["file"], x["row"] or 0, x["symbol"], x["datetime"]))


def write_truth(
    gt: Path,
    m: MarketPlan,
    plan: AnomalyPlan,
    rows: dict[int, int],
    factors_day: np.ndarray,
    actions: list[CorporateAction],
) -> list[Path]:
    """Write the four ground-truth files under ``gt``; returns their paths."""
    clock = m.clock
    dump_json(gt / "pairs.json", pair_records(m))
    n, k = clock.n_bars, len(m.pairs)
    ids = pl.Series([p.pair_id for p in m.pairs], dtype=pl.String)
    beta = pl.DataFrame(
        {
            "pair_id": ids.gather(np.repeat(np.arange(k, dtype=np.int64), n)),
            "datetime": np.tile(clock.utc_us, k),
            "beta": np.concatenate([p.beta for p in m.pairs]) if m.pairs else np.empty(0),
        },
        schema={"pair_id": pl.String, "datetime": pl.Int64, "beta": pl.Float64},
    ).with_columns(pl.col("datetime").cast(pl.Datetime("us", "UTC")))
    beta.write_parquet(gt / "beta_paths.parquet", statistics=False)
    del beta
    dump_json(
        gt / "anomalies.json",
        {
            "bar_file_order": "symbol-major, ascending time",
            "anomalies": anomaly_records(m, plan, rows),
        },
    )
    dump_json(
        gt / "corporate_actions.json",
        {
            "convention": "adjusted = raw / adj_factor; see docs/dev-contract.md",
            "actions": [
                {
                    "symbol": a.symbol,
                    "action": a.action,
                    "ex_date": a.ex_date.isoformat(),
                    "ratio": a.ratio,
                    "cash_amount": a.cash_amount,
                    "factor": a.factor,
                }
                for a in actions
            ],
            "segments": factor_segments(m, factors_day, actions),
        },
    )
    names = ("pairs.json", "beta_paths.parquet", "anomalies.json", "corporate_actions.json")
    return [gt / name for name in names]
