"""The real-data adapter for the daily index files shipped in ``arch`` (statarb.ingest.arch_data).

References: the ``arch`` package's own loaders (``arch.data.sp500.load``, ``arch.data.nasdaq.load``,
pandas) for the parsed values; the IANA time-zone rules for 09:30 New York -> UTC (14:30 in
winter, 13:30 in summer); ``statsmodels.tsa.stattools.coint`` for the pipeline's Engle-Granger
p-values on the real pair (slow end-to-end test). Skipped when ``arch`` is not installed, except
under ``CI=true`` (the lead pins ``arch==8.0.0``), where a missing package is a failure.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from kedro.config import OmegaConfigLoader

from statarb.ingest import (
    FileSpec,
    IngestionConfig,
    parse_corporate_actions,
    parse_partitions,
    parse_symbols,
)
from statarb.ingest.arch_cli import fetch_arch
from statarb.ingest.arch_data import (
    ARCH_SERIES,
    STALE_TICKS_PLACEHOLDER,
    ArchDataError,
    arch_available,
    calendar_mismatch,
    load_arch_daily,
    parse_vendor_daily,
    raw_bar_files,
    write_raw_dataset,
)
from statarb.storage.sql_io import read_table

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

if not arch_available() and os.environ.get("CI", "").lower() != "true":
    pytest.skip(
        "package 'arch' (arch==8.0.0) is not installed: it holds the real index data files",
        allow_module_level=True,
    )

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"


def _vendor(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def _arch_config() -> OmegaConfigLoader:
    """The configuration exactly as ``kedro run --env arch_daily`` loads it (project settings:
    the environment is an overlay merged key by key over base)."""
    from statarb.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(REPO / "conf"), env="arch_daily", **CONFIG_LOADER_ARGS)


# ---- parsing the packaged files -------------------------------------------------------------


@pytest.mark.parametrize("ticker,module", [("SPX", "sp500"), ("IXIC", "nasdaq")])
def test_packaged_series_equal_the_arch_loader(ticker: str, module: str) -> None:
    import importlib

    ref = importlib.import_module(f"arch.data.{module}").load()  # pandas, DatetimeIndex
    got = load_arch_daily([ticker])
    assert got.height == len(ref)
    assert got["date"].to_list() == [d.date() for d in ref.index]
    for ours, theirs in [("open", "Open"), ("high", "High"), ("low", "Low"), ("close", "Close"),
                         ("adj_close", "Adj Close"), ("volume", "Volume")]:  # fmt: skip
        np.testing.assert_array_equal(got[ours].to_numpy(), ref[theirs].to_numpy(float))
    assert (got["symbol"] == ticker).all()


def test_both_series_share_one_calendar_and_are_ohlc_consistent() -> None:
    bars = load_arch_daily()
    assert calendar_mismatch(bars).height == 0
    assert bars.group_by("symbol").len()["len"].n_unique() == 1
    assert bars.filter(
        (pl.col("high") < pl.max_horizontal("open", "close", "low"))
        | (pl.col("low") > pl.min_horizontal("open", "close"))
    ).is_empty()


def test_start_end_are_inclusive() -> None:
    bars = load_arch_daily(["SPX"], start=date(2018, 12, 24), end=date(2018, 12, 31))
    # NYSE sessions of that week: 24th (half day), 26th, 27th, 28th, 31st (25th: Christmas)
    assert bars["date"].to_list() == [date(2018, 12, d) for d in (24, 26, 27, 28, 31)]
    with pytest.raises(ArchDataError, match="no arch bars"):
        load_arch_daily(["SPX"], start=date(2030, 1, 1))


def test_calendar_mismatch_names_the_dates() -> None:
    bars = pl.DataFrame(
        {"symbol": ["A", "B", "A"], "date": [date(2020, 1, 2), date(2020, 1, 2), date(2020, 1, 3)]}
    )
    got = calendar_mismatch(bars)
    assert got["date"].to_list() == [date(2020, 1, 3)]
    assert got["present"].to_list() == [["A"]]


def test_parse_accepts_gzip_and_plain_text_equally() -> None:
    text = _vendor("1/4/1999,10,11,9,10.5,10.5,100", "12/31/1999,10.5,12,10,11,11,0")
    a = parse_vendor_daily(text, "x.csv", "SPX")
    b = parse_vendor_daily(gzip.compress(text), "x.csv.gz", "SPX")
    assert a.equals(b)
    assert a["date"].to_list() == [date(1999, 1, 4), date(1999, 12, 31)]


@pytest.mark.parametrize(
    "rows,row,rule",
    [
        (["1/4/1999,10,11,9,10.5,10.5,100", "1999-01-05,10,11,9,10.5,10.5,100"], 2, "date_format"),
        (["13/4/1999,10,11,9,10.5,10.5,100"], 1, "date_format"),
        (["1/4/1999,10,11,9,abc,abc,100"], 1, "non_numeric"),
        (["1/4/1999,10,11,9,nan,nan,100"], 1, "non_numeric"),
        (["1/4/1999,10,11,9,10.5,10.5,100", "1/5/1999,0,11,9,10.5,10.5,1"], 2,
         "non_positive_price"),
        (["1/4/1999,10,11,9,10.5,10.5,-1"], 1, "negative_volume"),
        (["1/5/1999,10,11,9,10.5,10.5,1", "1/4/1999,10,11,9,10.5,10.5,1"], 2,
         "non_increasing_date"),
        (["1/4/1999,10,11,9,10.5,10.5,1", "1/4/1999,10,11,9,10.5,10.5,1"], 2,
         "non_increasing_date"),
        (["1/4/1999,10,11,9,10.5,10.5,1", "1/5/1999,10,11,9,10.5,10.4,1"], 2,
         "adj_close_differs"),
    ],
)  # fmt: skip
def test_parse_rejects_bad_rows_naming_file_row_rule(rows: list[str], row: int, rule: str) -> None:
    with pytest.raises(ArchDataError) as err:
        parse_vendor_daily(_vendor(*rows), "vendor.csv", "SPX")
    assert str(err.value).startswith(f"vendor.csv, row {row}: rule {rule}:")


def test_parse_names_missing_columns() -> None:
    with pytest.raises(ArchDataError, match=r"vendor.csv: missing column\(s\) \['Adj Close'\]"):
        parse_vendor_daily(
            b"Date,Open,High,Low,Close,Volume\n1/4/1999,1,1,1,1,1\n", "vendor.csv", "X"
        )


# ---- raw files through the project's own ingestion parsers ---------------------------------


def _arch_ingestion() -> IngestionConfig:
    cfg = IngestionConfig.from_params(_arch_config()["parameters"]["ingestion"], "ingestion")
    assert cfg.source == "arch_daily"
    return cfg


def _arch_spec(kind: str) -> FileSpec:
    src = _arch_ingestion().active
    return src.bars if kind == "bars" else src.ticks


def test_raw_files_round_trip_through_the_ingestion_parser_in_utc() -> None:
    bars = load_arch_daily(start=date(2017, 12, 20), end=date(2018, 7, 10))
    files = raw_bar_files(bars)
    assert sorted(files) == ["ARCH_bars_2017.csv", "ARCH_bars_2018.csv"]
    parsed = parse_partitions(files, _arch_spec("bars"))
    assert parsed.height == bars.height
    back = parsed.sort("symbol", "datetime")
    for col in ("open", "high", "low", "close", "volume"):  # exact float round trip
        np.testing.assert_array_equal(back[col].to_numpy(), bars[col].to_numpy())
    # 09:30 New York = 14:30 UTC under EST (UTC-5), 13:30 UTC under EDT (UTC-4; from 2018-03-11)
    utc = back.select("local_datetime", "datetime").unique().sort("datetime")
    for local, ts in utc.iter_rows():
        assert (local.hour, local.minute) == (9, 30)
        edt = datetime(2018, 3, 11) <= local < datetime(2018, 11, 4)
        assert ts - timedelta(hours=13 if edt else 14, minutes=30) == ts.replace(
            hour=0, minute=0, second=0
        )


def test_write_raw_dataset_writes_reference_files_and_drops_stale_years(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    first = write_raw_dataset(out, start=date(2016, 6, 1), end=date(2018, 12, 31))
    assert [p.name for p in sorted((out / "bars").iterdir())] == [
        "ARCH_bars_2016.csv", "ARCH_bars_2017.csv", "ARCH_bars_2018.csv",
    ]  # fmt: skip
    assert first["rows"]["SPX"] == first["rows"]["IXIC"] > 0
    assert first["calendar_mismatch"] == []
    again = write_raw_dataset(out, start=date(2018, 1, 1))
    assert [p.name for p in again["removed"]] == ["ARCH_bars_2016.csv", "ARCH_bars_2017.csv"]
    assert [p.name for p in (out / "bars").iterdir()] == ["ARCH_bars_2018.csv"]

    validation = _arch_ingestion().validation
    symbols = parse_symbols((out / "symbols.csv").read_bytes(), validation)
    assert symbols["symbol_id"].to_list() == sorted(s.ticker for s in ARCH_SERIES)
    assert set(symbols["asset_class"]) == {"index"}
    actions = parse_corporate_actions(
        (out / "corporate_actions.csv").read_bytes(),
        symbols["symbol_id"],
        validation,
        date(2018, 12, 31),
    )
    assert actions.valid.height == 0 and actions.quarantine.height == 0
    assert not list(out.glob("ticks/*"))  # no ticks in this data set, and no placeholder
    (out / "ticks").mkdir(exist_ok=True)  # a placeholder left by an earlier version is removed
    (out / "ticks" / STALE_TICKS_PLACEHOLDER).write_bytes(b"")
    write_raw_dataset(out, start=date(2018, 1, 1))
    assert not list(out.glob("ticks/*"))


def test_fetch_arch_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        fetch_arch, ["--out", str(tmp_path), "--ticker", "spx", "--start", "2018-06-01"]
    )
    assert res.exit_code == 0, res.output
    assert "1 bar files" in res.output
    raw = pl.read_csv(tmp_path / "bars" / "ARCH_bars_2018.csv")
    assert raw.columns == ["Ticker", "Date", "Time", "Open", "High", "Low", "Close", "Volume"]
    assert set(raw["Ticker"]) == {"SPX"} and set(raw["Time"]) == {"09:30:00"}
    bad = runner.invoke(fetch_arch, ["--out", str(tmp_path), "--start", "1/4/2018"])
    assert bad.exit_code == 2 and "expected YYYY-MM-DD" in bad.output
    empty = runner.invoke(fetch_arch, ["--out", str(tmp_path), "--start", "2030-01-01"])
    assert empty.exit_code == 1 and "no arch bars" in empty.output


# ---- the Kedro environment conf/arch_daily -------------------------------------------------


def test_arch_environment_keeps_every_store_apart_from_the_default(monkeypatch) -> None:
    monkeypatch.delenv("STATARB_ARCH_DB_URL", raising=False)
    cfg = _arch_config()
    catalog = {k: v for k, v in cfg["catalog"].items() if not k.startswith("_")}
    paths = {
        name: entry.get("path") or entry.get("filepath")
        for name, entry in catalog.items()
        if entry.get("path") or entry.get("filepath")
    }
    assert paths, "no file-backed catalog entries"
    outside = {
        n: p for n, p in paths.items() if not p.startswith(("data/arch/", "data/01_raw_arch/"))
    }
    assert not outside, f"arch_daily entries writing outside data/arch: {outside}"
    assert catalog["backtest_run"]["equity_path"].startswith("data/arch/")
    assert cfg["credentials"]["db"]["con"] == "sqlite:///data/arch/statarb.db"
    params = cfg["parameters"]
    assert params["reporting"]["output_dir"].startswith("data/arch/")
    assert params["preprocessing"]["source"] == params["ingestion"]["source"] == "arch_daily"
    # one bar length everywhere: a daily bar (09:30-16:00) is known at its close
    assert params["alpha"]["bar_minutes"] == params["backtest"]["bar_interval_minutes"] == 390
    assert params["alpha"]["universe"] == {
        "mode": "explicit", "sectors": None, "pairs": ["IXIC_SPX"], "groups": {},
    }  # fmt: skip
    assert (REPO / params["backtest"]["costs_path"]).is_file()


def test_arch_store_url_comes_from_its_own_variable(monkeypatch) -> None:
    url = "postgresql+psycopg://user@host:5432/arch"
    monkeypatch.setenv("STATARB_ARCH_DB_URL", url)
    monkeypatch.setenv("STATARB_DB_URL", "postgresql+psycopg://user@host:5432/synthetic")
    assert _arch_config()["credentials"]["db"]["con"] == url


def test_fetch_arch_is_a_statarb_subcommand() -> None:
    from statarb.cli import main

    res = CliRunner().invoke(main, ["fetch-arch", "--help"])
    assert res.exit_code == 0 and "arch" in res.output and "--start" in res.output


# ---- end to end on three years of the real pair --------------------------------------------


def _run(args: list[str], cwd: Path) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("STATARB_DB_URL", "STATARB_ARCH_DB_URL")
    }
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{out[-6000:]}"
    return out


@pytest.mark.slow
def test_fetch_arch_then_kedro_run_env_arch_daily(tmp_path: Path) -> None:
    from statsmodels.tsa.stattools import coint

    root = tmp_path / "project"
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    _run([str(BIN / "statarb"), "fetch-arch", "--start", "2015-01-01"], root)
    out = _run([str(BIN / "kedro"), "run", "--env", "arch_daily"], root)

    data = root / "data"
    assert sorted(p.name for p in data.iterdir()) == ["01_raw_arch", "arch"]
    days = load_arch_daily(["SPX"], start=date(2015, 1, 1)).height
    bars = pl.scan_parquet(data / "arch/bars_adjusted/**/*.parquet").collect()
    assert bars.height == 2 * days
    assert (bars["adj_factor"] == 1.0).all() and (bars["outlier_flag"] == 0).all()
    local = bars["datetime"].dt.convert_time_zone("America/New_York")
    assert set(zip(local.dt.hour(), local.dt.minute(), strict=True)) == {(9, 30)}

    eng = sa.create_engine(f"sqlite:///{data / 'arch' / 'statarb.db'}")
    coint_res = read_table(eng, "cointegration_results").sort("test_ts")
    runs = read_table(eng, "backtest_runs")
    eng.dispose()
    assert runs.height == 1
    assert f"data/arch/08_reporting/{runs['run_id'][0]}/tearsheet.html" in out
    # every test at 16:00 New York (information time of the session's bar), every 21 sessions
    test_ts = coint_res["test_ts"]
    assert set(test_ts.dt.convert_time_zone("America/New_York").dt.hour()) == {16}
    # Engle-Granger p-values of the stored tests = statsmodels coint on the same 500-day windows
    panel = bars.pivot(on="symbol", index="datetime", values="close").sort("datetime")
    tested = coint_res.filter(pl.col("adf_pvalue").is_not_nan())
    assert tested.height >= 10
    for ts, p in zip(test_ts.filter(coint_res["adf_pvalue"].is_not_nan()), tested["adf_pvalue"],
                     strict=True):  # fmt: skip
        win = panel.filter(pl.col("datetime") + timedelta(minutes=390) <= ts).tail(500)
        ref = coint(win["IXIC"].to_numpy(), win["SPX"].to_numpy(), trend="c", autolag="AIC")[1]
        assert p == pytest.approx(ref, rel=1e-9, abs=1e-12)
