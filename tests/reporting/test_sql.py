"""DuckDB views over a tiny store and ``statarb sql`` (both relational back-ends)."""

from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

from statarb.cli import main
from statarb.reporting.duckdb_views import open_store
from statarb.storage.database import ensure_schema, get_engine
from statarb.storage.parquet_store import write_partitions
from statarb.storage.sql_io import write_frame
from tests.project_fixtures import make_project
from tests.reporting.synthetic import make_synthetic_run


@pytest.fixture
def tiny_store(tmp_path, db_url):
    make_project(tmp_path, db_url)
    run = make_synthetic_run()
    bars = run["bars_adjusted"].drop("outlier_flag").filter(pl.col("symbol").is_in(["AAA", "BBB"]))
    write_partitions(bars, tmp_path / "data" / "bars_adjusted", "bars", source="SYNTH")
    write_partitions(bars, tmp_path / "data" / "bars", "bars", source="SYNTH")
    spreads = pl.DataFrame(
        {"pair_id": "AAA_BBB", "datetime": run["equity"]["ts"][:10], "spread": 1.0, "beta": 0.5}
    )
    write_partitions(spreads, tmp_path / "data" / "alpha" / "spreads", "spread_series")
    ensure_schema(db_url)
    with get_engine(db_url).begin() as conn:
        for t, k in (
            ("runs", "backtest_runs"),
            ("signals", "backtest_signals"),
            ("fills", "backtest_fills"),
            ("equity", "backtest_equity"),
        ):
            write_frame(conn, k, run[t], mode="insert")
    return {"root": tmp_path, "url": db_url, "run": run, "bars": bars}


def test_views_and_join(tiny_store):
    s = open_store(tiny_store["root"], tiny_store["url"])
    assert s.parquet_views["ticks"] == "empty" and s.parquet_views["ou_output"] == "empty"
    assert {"bars", "bars_adjusted", "backtest_fills", "symbols", "selection_log"} <= set(
        s.tables()
    )
    n, syms, dates = s.con.sql(
        "SELECT count(*), count(DISTINCT symbol), count(DISTINCT date) FROM bars_adjusted "
        "WHERE source = 'SYNTH'"
    ).fetchall()[0]
    assert (n, syms, dates) == (tiny_store["bars"].height, 2, 3)
    # relational timestamps and Parquet timestamps join directly (both UTC timestamptz)
    got = s.con.sql(
        "SELECT f.id, f.symbol, b.close FROM backtest_fills f JOIN bars_adjusted b "
        "ON b.symbol = f.symbol AND b.datetime = f.fill_ts ORDER BY f.id"
    ).pl()
    fills = tiny_store["run"]["fills"].filter(pl.col("symbol").is_in(["AAA", "BBB"]))
    ref = fills.join(
        tiny_store["bars"], left_on=["symbol", "fill_ts"], right_on=["symbol", "datetime"]
    ).sort("id")
    assert got["id"].to_list() == ref["id"].to_list()
    assert got["close"].to_list() == pytest.approx(ref["close"].to_list())
    assert s.con.sql("SELECT count(*) FROM ticks").fetchall()[0][0] == 0
    sp = s.con.sql("SELECT pair_id, count(*) FROM spread_series GROUP BY 1").fetchall()
    assert sp == [("AAA_BBB", 10)]


def test_cli_query_formats_and_errors(tiny_store):
    args = ["sql", "--project-root", str(tiny_store["root"]), "--db-url", tiny_store["url"]]
    r = CliRunner().invoke(
        main,
        [*args, "--format", "csv", "SELECT run_id, count(*) AS n FROM backtest_fills GROUP BY 1"],
    )
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["run_id,n", "bt_test_001,10"]
    r = CliRunner().invoke(main, [*args, "SELECT symbol, max(close) FROM bars GROUP BY 1"])
    assert r.exit_code == 0 and "AAA" in r.output and "BBB" in r.output
    r = CliRunner().invoke(main, [*args, "SELECT * FROM no_such_table"])
    assert r.exit_code != 0 and "no_such_table" in r.output
    r = CliRunner().invoke(main, [*args, "--tables"])
    assert "backtest_metrics" in r.output and "spread_series" in r.output


def test_cli_reads_statements_from_stdin(tiny_store):
    args = [
        "sql",
        "--project-root",
        str(tiny_store["root"]),
        "--db-url",
        tiny_store["url"],
        "--format",
        "csv",
    ]
    r = CliRunner().invoke(main, args, input="SELECT count(*) AS n FROM backtest_signals")
    assert r.exit_code == 0 and r.output.splitlines() == ["n", "6"]


def test_missing_sqlite_file_is_reported(tmp_path):
    make_project(tmp_path)
    r = CliRunner().invoke(
        main,
        [
            "sql",
            "--project-root",
            str(tmp_path),
            "--db-url",
            f"sqlite:///{tmp_path / 'none.db'}",
            "SELECT count(*) AS n FROM bars",
        ],
    )
    assert r.exit_code == 0 and "no SQLite database" in r.output and "0" in r.output


def test_interactive_prompt(tiny_store, monkeypatch, capsys):
    from statarb.reporting import sql_cli

    lines = iter(
        [".tables", "SELECT count(*) AS n_fills", "FROM backtest_fills;", "SELEC 1;", ".quit"]
    )
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    sess = open_store(tiny_store["root"], tiny_store["url"])
    sql_cli._repl(sess, max_rows=10, fmt="csv")
    out = capsys.readouterr()
    assert "backtest_fills" in out.out and "bars_adjusted" in out.out  # .tables
    assert "n_fills\n10\n" in out.out  # multi-line statement ended by ';'
    assert "error:" in out.err  # a bad statement does not end the session


def test_a_half_finished_alpha_run_is_named_not_hidden(tiny_store):
    from statarb.storage.alpha_state import MARKER

    assert open_store(tiny_store["root"], tiny_store["url"]).warnings == []
    marker = tiny_store["root"] / "data" / "alpha" / MARKER
    marker.write_text('{"started_at": "2026-12-04T00:00:00+00:00", "pending": ["alpha_screening"]}')
    s = open_store(tiny_store["root"], tiny_store["url"])
    assert any("did not finish alpha_screening" in w for w in s.warnings), s.warnings
    assert s.con.sql("SELECT count(*) FROM spread_series").fetchall() == [(10,)]  # still readable
