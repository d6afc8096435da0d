"""Orchestration: simulate the market, derive raw files and ground truth, write ``data/01_raw``.

``build(cfg)`` returns everything in memory (:class:`SyntheticData`); ``generate(out, cfg)`` writes
the files and a manifest, skipping when the manifest already matches the config (idempotent:
same config and seed give byte-identical files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from statarb.synthetic.anomalies import AnomalyPlan, plan_and_inject
from statarb.synthetic.config import SyntheticConfig
from statarb.synthetic.corporate import (
    CorporateAction,
    choose_actions,
    day_factors,
    factor_segments,
)
from statarb.synthetic.market import Market, simulate_market
from statarb.synthetic.processes import ou_step_variance
from statarb.synthetic.ticks import simulate_ticks
from statarb.synthetic.vendor_files import (
    bar_file_name,
    build_bar_frame,
    tick_file_name,
    write_bar_files,
    write_corporate_actions,
    write_symbols,
)

GENERATOR_VERSION = "1"
MANIFEST = "ground_truth/manifest.json"


@dataclass(frozen=True)
class SyntheticData:
    """In-memory result: adjusted market, raw clean OHLC, per-day factors, files' frames."""

    market: Market
    factors_day: np.ndarray  # (n_days, n_sym) cumulative adj_factor per day
    raw_clean: dict[str, np.ndarray]  # raw OHLC before anomalies
    actions: list[CorporateAction]
    plan: AnomalyPlan
    written_tickers: list[str]
    bar_frame: pl.DataFrame  # file rows, with _day/_row/_uid/_bar/_sym
    ticks: pl.DataFrame

    def adj_factor(self) -> np.ndarray:
        """``(n_bars, n_sym)`` cumulative factor of every bar (``raw = adjusted * factor``)."""
        return self.factors_day[self.market.clock.day_index]


def _utc_iso(us: int) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(us))).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def build(cfg: SyntheticConfig) -> SyntheticData:
    """Simulate everything for ``cfg`` without touching the file system."""
    market = simulate_market(cfg)
    rng = np.random.default_rng([cfg.seed, 1])  # independent stream for files/anomalies
    clock, bpd, n_sym = market.clock, cfg.bars_per_day, len(market.symbols)
    factors_day, actions = day_factors(market, choose_actions(market, rng))
    f_bar = factors_day[clock.day_index]
    raw = {k: getattr(market, k) * f_bar for k in ("open", "high", "low", "close")}
    protected = np.zeros_like(raw["close"], dtype=bool)
    for a in actions:
        j = market.symbols.index(a.symbol)
        protected[a.ex_day * bpd - 3 : a.ex_day * bpd, j] = True
    dirty = {k: v.copy() for k, v in raw.items()}
    plan = plan_and_inject(cfg, rng, dirty, market.bar_vol, protected)
    lower = set(rng.choice(n_sym, size=min(cfg.n_lowercase, n_sym), replace=False).tolist())
    if market.pairs:
        lower.add(market.symbols.index(market.pairs[0].symbol_a))
    written = [s.lower() if j in lower else s for j, s in enumerate(market.symbols)]
    frame = build_bar_frame(clock, written, cfg.unknown_ticker, dirty, market.volume, plan)
    tick_cols = _tick_symbols(market, cfg.tick_symbols)
    n_days = len(clock.days)
    first_tick_day = max(n_days - cfg.tick_days, 0)
    ticks = simulate_ticks(
        rng,
        clock,
        np.arange(first_tick_day * bpd, n_days * bpd),
        tick_cols,
        list(market.symbols),
        raw,
        market.bar_vol,
        cfg.tick_rate_per_sec,
        cfg.venues,
    )
    return SyntheticData(market, factors_day, raw, actions, plan, written, frame, ticks)


def _tick_symbols(market: Market, k: int) -> list[int]:
    legs = [market.symbols.index(s) for p in market.pairs[:2] for s in (p.symbol_a, p.symbol_b)]
    free = [j for j in range(len(market.symbols)) if j not in legs]
    return sorted((legs + free)[:k])


def pairs_truth(data: SyntheticData) -> list[dict]:
    """``pairs.json`` records: constructed pairs first, then every other combination."""
    m = data.market
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
                "break_ts": None if p.break_bar is None else _utc_iso(clock.utc_us[p.break_bar]),
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


def anomalies_truth(data: SyntheticData) -> list[dict]:
    """``anomalies.json`` records with file, 1-based data row (null for missing bars) and rule."""
    cfg, m, clock = data.market.config, data.market, data.market.clock
    rows = data.bar_frame.filter(pl.col("_uid").is_in([r["uid"] for r in data.plan.records]))
    where = dict(zip(rows["_uid"].to_list(), rows["_row"].to_list(), strict=True))
    out = []
    for r in data.plan.records:
        t, j = r["bar"], r["sym"]
        rule = r["rule"]
        rec = {
            "file": "bars/" + bar_file_name(cfg.file_prefix, clock.days[clock.day_index[t]]),
            "row": None if r["uid"] is None else int(where[r["uid"]]),
            "rule": rule,
            "symbol": cfg.unknown_ticker if rule == "unknown_ticker" else m.symbols[j],
            "datetime": _utc_iso(clock.utc_us[t]),
        }
        rec.update({k: v for k, v in r.items() if k not in ("rule", "bar", "sym", "uid")})
        out.append(rec)
    return sorted(out, key=lambda x: (x["file"], x["row"] or 0, x["symbol"], x["datetime"]))


def _dump_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_all(data: SyntheticData, out: Path) -> list[Path]:
    """Write every raw and ground-truth file under ``out``; returns the paths written."""
    m, cfg, clock = data.market, data.market.config, data.market.clock
    gt = out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    write_symbols(out / "symbols.csv", data.written_tickers, m.sectors)
    write_corporate_actions(out / "corporate_actions.csv", data.actions)
    written += [out / "symbols.csv", out / "corporate_actions.csv"]
    written += write_bar_files(data.bar_frame, clock, out / "bars", cfg.file_prefix)
    (out / "ticks").mkdir(exist_ok=True)
    for (day,), part in data.ticks.partition_by("_day", as_dict=True, maintain_order=True).items():
        p = out / "ticks" / tick_file_name(cfg.file_prefix, clock.days[int(day)])
        part.select("sym", "ts", "px", "qty", "side", "venue").write_parquet(p, statistics=False)
        written.append(p)
    _dump_json(gt / "pairs.json", pairs_truth(data))
    n = clock.n_bars
    beta = pl.DataFrame(
        {
            "pair_id": np.repeat([p.pair_id for p in m.pairs], n),
            "datetime": np.tile(clock.utc_us, len(m.pairs)),
            "beta": np.concatenate([p.beta for p in m.pairs]) if m.pairs else [],
        },
        schema={"pair_id": pl.String, "datetime": pl.Int64, "beta": pl.Float64},
    ).with_columns(pl.col("datetime").cast(pl.Datetime("us", "UTC")))
    beta.write_parquet(gt / "beta_paths.parquet", statistics=False)
    _dump_json(
        gt / "anomalies.json",
        {"bar_file_order": "symbol-major, ascending time", "anomalies": anomalies_truth(data)},
    )
    _dump_json(
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
                for a in data.actions
            ],
            "segments": factor_segments(m, data.factors_day, data.actions),
        },
    )
    written += [gt / n for n in ("pairs.json", "beta_paths.parquet")]
    written += [gt / "anomalies.json", gt / "corporate_actions.json"]
    return written


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_up_to_date(out: Path, cfg: SyntheticConfig) -> bool:
    """True when ``out`` holds a manifest for this exact config and every listed file exists."""
    mf = out / MANIFEST
    if not mf.exists():
        return False
    try:
        doc = json.loads(mf.read_text())
    except json.JSONDecodeError:
        return False
    return (
        doc.get("config_fingerprint") == cfg.fingerprint()
        and doc.get("generator_version") == GENERATOR_VERSION
        and all((out / rel).exists() for rel in doc.get("files", {}))
    )


def clear_output(out: Path, prefix: str) -> None:
    """Remove files a previous run wrote (bars, ticks, ground truth, reference CSVs)."""
    for sub, pat in (("bars", f"{prefix}_bars_*.csv"), ("ticks", f"{prefix}_ticks_*.parquet")):
        for p in (out / sub).glob(pat):
            p.unlink()
    if (out / "ground_truth").exists():
        shutil.rmtree(out / "ground_truth")
    for name in ("symbols.csv", "corporate_actions.csv"):
        (out / name).unlink(missing_ok=True)


def generate(out: str | Path, cfg: SyntheticConfig, force: bool = False) -> tuple[bool, list[Path]]:
    """Write the synthetic raw files to ``out``. Returns ``(written, paths)``.

    Skips (``written=False``) when ``out`` already holds the files of this config, unless ``force``.
    """
    out = Path(out)
    if not force and is_up_to_date(out, cfg):
        doc = json.loads((out / MANIFEST).read_text())
        return False, [out / rel for rel in doc["files"]]
    clear_output(out, cfg.file_prefix)
    out.mkdir(parents=True, exist_ok=True)
    paths = write_all(build(cfg), out)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "config_fingerprint": cfg.fingerprint(),
        "config": cfg.to_json_dict(),
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in sorted(paths)},
    }
    _dump_json(out / MANIFEST, manifest)
    return True, paths
