"""Orchestration: simulate the market, derive raw files and ground truth, write ``data/01_raw``.

``generate(out, cfg)`` streams: the market is planned in one pass (:func:`.market.plan_market`),
then each session's panel is simulated, converted to raw prices, given its anomalies and written
as that day's bar file before the next session is simulated, so the memory held does not grow
with the number of sessions (apart from per-pair paths, the ground truth, and 4 bytes per
bar-symbol cell while the anomaly cells are drawn). ``build(cfg)`` returns the same thing in
memory (:class:`SyntheticData`, small configs and tests). Writing skips when the manifest already
matches the config (idempotent: same config and seed give byte-identical files).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from statarb.synthetic.anomalies import AnomalyPlan, inject, plan_anomalies
from statarb.synthetic.config import SyntheticConfig
from statarb.synthetic.corporate import CorporateAction, choose_actions, day_factors
from statarb.synthetic.market import DayBlock, Market, MarketPlan, build_clock, plan_market
from statarb.synthetic.ticks import simulate_ticks
from statarb.synthetic.truth import dump_json, pair_records, write_truth
from statarb.synthetic.vendor_files import (
    bar_file_name,
    day_bar_frame,
    tick_file_name,
    write_bar_file,
    write_corporate_actions,
    write_symbols,
)

GENERATOR_VERSION = "1"
MANIFEST = "ground_truth/manifest.json"
_OHLC = ("open", "high", "low", "close")


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


@dataclass
class _Run:
    """Everything decided before the first session is simulated."""

    plan: MarketPlan
    rng: np.random.Generator  # files/anomalies stream, used again for the ticks
    factors_day: np.ndarray
    actions: list[CorporateAction]
    anomalies: AnomalyPlan
    written: list[str]
    tick_cols: list[int]
    tick_bar0: int


def _prepare(cfg: SyntheticConfig) -> _Run:
    plan = plan_market(cfg)
    rng = np.random.default_rng([cfg.seed, 1])  # independent stream for files/anomalies
    clock, n_sym = plan.clock, len(plan.symbols)
    factors_day, actions = day_factors(plan, choose_actions(plan, rng))
    col = {s: j for j, s in enumerate(plan.symbols)}
    protected = [
        (t, col[a.symbol])
        for a in actions
        for t in range(int(clock.day_start[a.ex_day]) - 3, int(clock.day_start[a.ex_day]))
    ]
    anomalies = plan_anomalies(cfg, rng, clock, n_sym, protected)
    lower = set(rng.choice(n_sym, size=min(cfg.n_lowercase, n_sym), replace=False).tolist())
    if plan.pairs:
        lower.add(col[plan.pairs[0].symbol_a])
    written = [s.lower() if j in lower else s for j, s in enumerate(plan.symbols)]
    first_tick_day = max(len(clock.days) - cfg.tick_days, 0)
    return _Run(
        plan, rng, factors_day, actions, anomalies, written,
        _tick_symbols(plan, cfg.tick_symbols), int(clock.day_start[first_tick_day]),
    )  # fmt: skip


def _tick_symbols(market: MarketPlan, k: int) -> list[int]:
    col = {s: j for j, s in enumerate(market.symbols)}
    legs = [col[s] for p in market.pairs[:2] for s in (p.symbol_a, p.symbol_b)]
    free = [j for j in range(len(market.symbols)) if j not in set(legs)]
    return sorted((legs + free)[:k])


def _sessions(
    run: _Run, rows: dict[int, int]
) -> Iterator[tuple[DayBlock, dict[str, np.ndarray], pl.DataFrame]]:
    """Per session: the adjusted block, its clean raw OHLC and its file frame; fills ``rows``
    (uid -> data row) for the anomaly records."""
    plan, cfg = run.plan, run.plan.config
    wanted = {r["uid"] for r in run.anomalies.records if r["uid"] is not None}
    for block in plan.iter_days():
        f = run.factors_day[block.day][None, :]
        raw = {k: getattr(block, k) * f for k in _OHLC}
        dirty = {k: v.copy() for k, v in raw.items()}
        inject(run.anomalies, dirty, block.start, plan.bar_vol)
        frame = day_bar_frame(
            plan.clock, block.day, run.written, cfg.unknown_ticker, dirty, block.volume,
            run.anomalies,
        )  # fmt: skip
        hit = frame.filter(pl.col("_uid").is_in(list(wanted)))
        rows.update(zip(hit["_uid"].to_list(), hit["_row"].to_list(), strict=True))
        yield block, raw, frame


def _ticks(run: _Run, tick_raw: list[dict[str, np.ndarray]]) -> pl.DataFrame:
    plan, cfg = run.plan, run.plan.config
    ohlc = {k: np.vstack([r[k] for r in tick_raw]) if tick_raw else np.empty((0, 0)) for k in _OHLC}
    return simulate_ticks(
        run.rng, plan.clock, np.arange(run.tick_bar0, plan.n_bars), run.tick_cols,
        list(plan.symbols), ohlc, plan.bar_vol, cfg.tick_rate_per_sec, cfg.venues,
        bar0=run.tick_bar0,
    )  # fmt: skip


def _stream(run: _Run, on_day: Callable[[DayBlock, dict, pl.DataFrame], None]) -> tuple:
    """Run every session through ``on_day``; returns ``(ticks, rows)``."""
    rows: dict[int, int] = {}
    tick_raw = []
    for block, raw, frame in _sessions(run, rows):
        on_day(block, raw, frame)
        if block.start >= run.tick_bar0:
            tick_raw.append(raw)
    return _ticks(run, tick_raw), rows


def build(cfg: SyntheticConfig) -> SyntheticData:
    """Simulate everything for ``cfg`` in memory, without touching the file system."""
    run = _prepare(cfg)
    blocks, raws, frames = [], [], []

    def keep(block: DayBlock, raw: dict, frame: pl.DataFrame) -> None:
        blocks.append(block)
        raws.append(raw)
        frames.append(frame.with_columns(pl.lit(block.day, pl.Int64).alias("_day")))

    ticks, _ = _stream(run, keep)
    p = run.plan
    panel = {k: np.vstack([getattr(b, k) for b in blocks]) for k in (*_OHLC, "volume")}
    market = Market(p.config, p.clock, p.symbols, p.sectors, p.bar_vol, pairs=p.pairs, **panel)
    raw_clean = {k: np.vstack([r[k] for r in raws]) for k in _OHLC}
    return SyntheticData(
        market, run.factors_day, raw_clean, run.actions, run.anomalies, run.written,
        pl.concat(frames), ticks,
    )  # fmt: skip


def pairs_truth(data: SyntheticData) -> list[dict]:
    """``pairs.json`` records: constructed pairs first, then every other combination."""
    return pair_records(data.market)


def write_all(cfg: SyntheticConfig, out: Path) -> list[Path]:
    """Simulate and write every raw and ground-truth file under ``out``, one session at a time;
    returns the paths written."""
    run = _prepare(cfg)
    m, clock = run.plan, run.plan.clock
    gt = out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    (out / "bars").mkdir(exist_ok=True)
    write_symbols(out / "symbols.csv", run.written, m.sectors)
    write_corporate_actions(out / "corporate_actions.csv", run.actions)
    written: list[Path] = [out / "symbols.csv", out / "corporate_actions.csv"]

    def write_day(block: DayBlock, raw: dict, frame: pl.DataFrame) -> None:
        day = clock.days[block.day]
        written.append(write_bar_file(frame, out / "bars", cfg.file_prefix, day, cfg.bar_format))

    ticks, rows = _stream(run, write_day)
    (out / "ticks").mkdir(exist_ok=True)
    for (day,), part in ticks.partition_by("_day", as_dict=True, maintain_order=True).items():
        p = out / "ticks" / tick_file_name(cfg.file_prefix, clock.days[int(day)])
        part.select("sym", "ts", "px", "qty", "side", "venue").write_parquet(p, statistics=False)
        written.append(p)
    written += write_truth(gt, m, run.anomalies, rows, run.factors_day, run.actions)
    return written


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expected_bar_files(cfg: SyntheticConfig) -> set[str]:
    """Relative paths of the bar files ``cfg`` produces (one per session)."""
    days = build_clock(cfg).days
    return {"bars/" + bar_file_name(cfg.file_prefix, d, cfg.bar_format) for d in days}


def is_up_to_date(out: Path, cfg: SyntheticConfig) -> bool:
    """True when ``out`` holds a manifest for this exact config, every listed file exists and
    the bar files are those of the config's calendar."""
    mf = out / MANIFEST
    if not mf.exists():
        return False
    try:
        doc = json.loads(mf.read_text())
    except json.JSONDecodeError:
        return False
    files = doc.get("files", {})
    return (
        doc.get("config_fingerprint") == cfg.fingerprint()
        and doc.get("generator_version") == GENERATOR_VERSION
        and all((out / rel).exists() for rel in files)
        and {f for f in files if f.startswith("bars/")} == expected_bar_files(cfg)
    )


def clear_output(out: Path, prefix: str) -> None:
    """Remove files a previous run wrote (bars, ticks, ground truth, reference CSVs)."""
    for sub, pat in (
        ("bars", f"{prefix}_bars_*.csv"),
        ("bars", f"{prefix}_bars_*.parquet"),
        ("ticks", f"{prefix}_ticks_*.parquet"),
    ):
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
    paths = write_all(cfg, out)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "config_fingerprint": cfg.fingerprint(),
        "config": cfg.to_json_dict(),
        "files": {p.relative_to(out).as_posix(): _sha256(p) for p in sorted(paths)},
    }
    dump_json(out / MANIFEST, manifest)
    return True, paths
