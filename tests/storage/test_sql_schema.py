"""The migrated database equals storage spec §4/§7.2, on SQLite and PostgreSQL.

The expected schema below is transcribed by hand from ``shared/spec/storage-architecture.md``
(§4 tables, §4.2/§4.3 uniques, §7.2 indexes, §8/§9.1 rules) - it is deliberately NOT derived from
``statarb.storage.schema``, so a drift in either shows up here.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from statarb.storage import database, schema
from statarb.storage.errors import translate_integrity_error
from tests.storage.sql_fixtures import engine_fixture  # noqa: F401 - fixture `engine`

# <table>
#   <column> <TYPE> [PK] [NN] [FK <table>.<column>]      (NN = NOT NULL in the spec)
SPEC = """
symbols
  symbol_id TEXT PK NN
  display_name TEXT
  asset_class TEXT
  exchange TEXT
  currency TEXT
  created_at TIMESTAMP
  updated_at TIMESTAMP
corporate_actions
  id INTEGER PK
  symbol_id TEXT NN FK symbols.symbol_id
  action_type TEXT NN
  ex_date DATE NN
  recorded_at TIMESTAMP
  ratio REAL
  cash_amount REAL
  metadata_json TEXT
pair_universe
  pair_id TEXT PK NN
  symbol_a TEXT NN FK symbols.symbol_id
  symbol_b TEXT NN FK symbols.symbol_id
  created_at TIMESTAMP
  notes TEXT
cointegration_results
  id INTEGER PK
  pair_id TEXT NN FK pair_universe.pair_id
  test_ts TIMESTAMP NN
  adf_statistic REAL
  adf_pvalue REAL
  johansen_trace REAL
  johansen_pvalue REAL
  cointegrating_vector TEXT
  is_cointegrated BOOLEAN
  created_at TIMESTAMP
kalman_params
  id INTEGER PK
  pair_id TEXT NN FK pair_universe.pair_id
  window_start TIMESTAMP
  window_end TIMESTAMP
  initial_state TEXT
  process_noise REAL
  measurement_noise REAL
  created_at TIMESTAMP
ou_params
  id INTEGER PK
  pair_id TEXT NN FK pair_universe.pair_id
  window_start TIMESTAMP
  window_end TIMESTAMP
  theta REAL
  mu REAL
  sigma REAL
  entry_upper REAL
  entry_lower REAL
  exit_threshold REAL
  created_at TIMESTAMP
backtest_runs
  run_id TEXT PK NN
  strategy_name TEXT
  pair_id TEXT FK pair_universe.pair_id
  start_ts TIMESTAMP NN
  end_ts TIMESTAMP NN
  config_json TEXT
  created_at TIMESTAMP
backtest_signals
  id INTEGER PK
  run_id TEXT NN FK backtest_runs.run_id
  signal_ts TIMESTAMP NN
  direction TEXT NN
  symbol_a TEXT
  symbol_b TEXT
  hedge_ratio REAL
  size REAL
  metadata_json TEXT
backtest_fills
  id INTEGER PK
  run_id TEXT NN FK backtest_runs.run_id
  signal_id INTEGER FK backtest_signals.id
  fill_ts TIMESTAMP NN
  symbol TEXT NN
  side TEXT NN
  quantity REAL NN
  price REAL NN
  commission REAL
  slippage_bps REAL
backtest_equity
  run_id TEXT NN FK backtest_runs.run_id
  ts TIMESTAMP NN
  equity REAL NN
  cash REAL
  positions_value REAL
backtest_metrics
  run_id TEXT PK NN FK backtest_runs.run_id
  sharpe_annual REAL
  sortino_annual REAL
  calmar REAL
  max_drawdown REAL
  total_return REAL
  num_trades INTEGER
  win_rate REAL
  alpha REAL
  beta REAL
  metrics_json TEXT
  computed_at TIMESTAMP
schema_version
  version INTEGER PK NN
  applied_at TIMESTAMP
  description TEXT
"""

# Tables the project adds beyond spec §4 (docs/architecture.md), transcribed the same way.
EXTENSIONS = """
selection_log
  id INTEGER PK
  pair_id TEXT NN FK pair_universe.pair_id
  test_ts TIMESTAMP NN
  method TEXT NN
  n_obs INTEGER
  statistic REAL
  pvalue REAL
  qvalue REAL
  half_life REAL
  hurst REAL
  crossings INTEGER
  pass_test BOOLEAN
  pass_half_life BOOLEAN
  pass_hurst BOOLEAN
  pass_crossings BOOLEAN
  pass_matching BOOLEAN
  streak INTEGER
  tradable BOOLEAN NN
  reason TEXT
  created_at TIMESTAMP
  confirm_pvalue REAL
  pass_confirmation BOOLEAN
data_batches
  batch_id INTEGER PK
  created_at TIMESTAMP NN
  note TEXT
  pipelines TEXT
  datasets TEXT
bar_partition_index
  id INTEGER PK
  symbol_id TEXT NN FK symbols.symbol_id
  store TEXT NN
  source TEXT NN
  path TEXT NN
  h5_group TEXT NN
  date DATE NN
  row_start INTEGER NN
  row_stop INTEGER NN
  start_ts TIMESTAMP NN
  end_ts TIMESTAMP NN
  batch_id INTEGER FK data_batches.batch_id
sweeps
  sweep_id TEXT PK
  strategy_name TEXT NN
  start_ts TIMESTAMP
  end_ts TIMESTAMP
  n_configs INTEGER NN
  n_trials INTEGER NN
  sharpe_variance REAL
  periods_per_year REAL
  rank_cost_scale REAL
  config_json TEXT
  cost_sensitivity_json TEXT
  walk_forward_json TEXT
  created_at TIMESTAMP NN
sweep_results
  id INTEGER PK
  sweep_id TEXT NN FK sweeps.sweep_id
  run_id TEXT NN
  entry_z REAL NN
  exit_z REAL NN
  stop_z REAL NN
  max_holding_bars INTEGER NN
  kalman_delta REAL
  ou_window_bars INTEGER
  cost_scale REAL NN
  sharpe_annual REAL
  sortino_annual REAL
  max_drawdown REAL
  total_return REAL
  annual_return REAL
  annual_volatility REAL
  pnl REAL
  final_equity REAL
  num_signals INTEGER
  num_fills INTEGER
  num_trades INTEGER
  commission REAL
  slippage_cost REAL
  rank INTEGER
  has_events BOOLEAN NN
  config_json TEXT NN
"""

SPEC_UNIQUES = {
    "cointegration_results": [("pair_id", "test_ts")],
    "backtest_equity": [("run_id", "ts")],
    "selection_log": [("pair_id", "test_ts")],
    "bar_partition_index": [("store", "source", "symbol_id", "date", "batch_id")],
    "sweep_results": [("run_id",)],
}

# §7.2: column lists that must lead some index, unique constraint or primary key
SPEC_INDEXES = [
    ("symbols", ("symbol_id",)),
    ("corporate_actions", ("symbol_id", "ex_date")),
    ("pair_universe", ("pair_id",)),
    ("pair_universe", ("symbol_a", "symbol_b")),
    ("cointegration_results", ("pair_id", "test_ts")),
    ("backtest_signals", ("run_id", "signal_ts")),
    ("backtest_fills", ("run_id", "fill_ts")),
    ("backtest_equity", ("run_id", "ts")),
    ("backtest_runs", ("start_ts", "end_ts")),
    ("backtest_runs", ("created_at",)),
]

SPEC_CHECKS = {
    "symbols": {"ck_symbols_symbol_id_format"},
    "corporate_actions": {
        "ck_corporate_actions_action_type",
        "ck_corporate_actions_ratio_positive",
        "ck_corporate_actions_cash_amount_nonnegative",
    },
    "pair_universe": {"ck_pair_universe_symbol_order", "ck_pair_universe_pair_id_format"},
    "backtest_signals": {"ck_backtest_signals_direction"},
    "backtest_fills": {
        "ck_backtest_fills_side",
        "ck_backtest_fills_price_nonnegative",
        "ck_backtest_fills_quantity_nonnegative",
        "ck_backtest_fills_commission_nonnegative",
    },
    "bar_partition_index": {"ck_bar_partition_index_row_range"},
}


def _parse_spec() -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    current = None
    for line in (SPEC.strip() + "\n" + EXTENSIONS.strip()).splitlines():
        if not line.startswith(" "):
            current = tables.setdefault(line.strip(), [])
            continue
        parts = line.split()
        col = {"name": parts[0], "type": parts[1], "pk": "PK" in parts, "nn": "NN" in parts}
        col["fk"] = parts[parts.index("FK") + 1] if "FK" in parts else None
        current.append(col)
    return tables


def _norm_type(t: sa.types.TypeEngine) -> str:
    for cls, name in [
        (sa.Boolean, "BOOLEAN"),
        (sa.DateTime, "TIMESTAMP"),
        (sa.Date, "DATE"),
        (sa.Integer, "INTEGER"),
        (sa.Float, "REAL"),
        (sa.String, "TEXT"),
    ]:
        if isinstance(t, cls):
            return name
    raise AssertionError(f"unexpected reflected type {t!r}")


def test_tables_columns_types_keys_match_spec(engine: sa.Engine) -> None:
    spec = _parse_spec()
    insp = sa.inspect(engine)
    assert set(insp.get_table_names()) == set(spec) | {"alembic_version"}
    for table, cols in spec.items():
        got = {c["name"]: c for c in insp.get_columns(table)}
        assert list(got) == [c["name"] for c in cols], table
        for c in cols:
            g = got[c["name"]]
            where = f"{table}.{c['name']}"
            assert _norm_type(g["type"]) == c["type"], where
            # PKs are implicitly NOT NULL; everything else exactly as the spec says
            assert g["nullable"] is not (c["nn"] or c["pk"]), where
            if c["type"] == "REAL":  # 8-byte float on both back-ends
                expected = "DOUBLE PRECISION" if engine.dialect.name == "postgresql" else "REAL"
                assert g["type"].compile(dialect=engine.dialect) == expected, where
            if c["type"] == "TIMESTAMP":
                assert not getattr(g["type"], "timezone", False), where
        pk = insp.get_pk_constraint(table)["constrained_columns"]
        assert pk == [c["name"] for c in cols if c["pk"]], table
        fks = {
            (fk["constrained_columns"][0], f"{fk['referred_table']}.{fk['referred_columns'][0]}")
            for fk in insp.get_foreign_keys(table)
        }
        assert fks == {(c["name"], c["fk"]) for c in cols if c["fk"]}, table
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        assert uniques == set(SPEC_UNIQUES.get(table, [])), table
        checks = {ck["name"] for ck in insp.get_check_constraints(table)}
        assert checks == SPEC_CHECKS.get(table, set()), table


def test_section_7_2_indexes_exist(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    for table, cols in SPEC_INDEXES:
        covering = [tuple(ix["column_names"]) for ix in insp.get_indexes(table)]
        covering += [tuple(u["column_names"]) for u in insp.get_unique_constraints(table)]
        covering.append(tuple(insp.get_pk_constraint(table)["constrained_columns"]))
        assert any(c[: len(cols)] == cols for c in covering), (table, cols, covering)


def test_migrated_db_has_no_autogenerate_diff_and_version_row(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        rows = conn.execute(sa.text("SELECT version, applied_at FROM schema_version")).all()
    assert [r.version for r in rows] == [1, 2, 3, 4, 5, 6] and all(
        r.applied_at is not None for r in rows
    )
    url = engine.url.render_as_string(hide_password=False)
    assert database.current_revision(url) == database.head_revision()
    database.upgrade(url)  # idempotent at head
    assert database.current_revision(url) == database.head_revision()


def test_symbols_timestamps_default_to_utc_now(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO symbols (symbol_id) VALUES ('AAPL')"))
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(schema.symbols.c.created_at, schema.symbols.c.updated_at)
        ).one()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs(row.created_at - now) < dt.timedelta(seconds=60)  # UTC, not local time
    assert row.updated_at == row.created_at


RAW_VIOLATIONS = [
    # (table, raw row, constraint the database must name)
    ("symbols", {"symbol_id": "aapl"}, "ck_symbols_symbol_id_format"),
    ("symbols", {"symbol_id": "BRK B"}, "ck_symbols_symbol_id_format"),
    (
        "pair_universe",
        {"pair_id": "MSFT_AAPL", "symbol_a": "MSFT", "symbol_b": "AAPL"},
        "ck_pair_universe_symbol_order",
    ),
    (
        "pair_universe",
        {"pair_id": "AAPL_AAPL", "symbol_a": "AAPL", "symbol_b": "AAPL"},
        "ck_pair_universe_symbol_order",
    ),
    (
        "pair_universe",
        {"pair_id": "AAPL-MSFT", "symbol_a": "AAPL", "symbol_b": "MSFT"},
        "ck_pair_universe_pair_id_format",
    ),
    (
        "corporate_actions",
        {"symbol_id": "AAPL", "action_type": "merger", "ex_date": dt.date(2024, 1, 2)},
        "ck_corporate_actions_action_type",
    ),
    (
        "corporate_actions",
        {"symbol_id": "AAPL", "action_type": "split", "ex_date": dt.date(2024, 1, 2), "ratio": 0.0},
        "ck_corporate_actions_ratio_positive",
    ),
    (
        "corporate_actions",
        {
            "symbol_id": "AAPL",
            "action_type": "dividend",
            "ex_date": dt.date(2024, 1, 2),
            "cash_amount": -1,
        },
        "ck_corporate_actions_cash_amount_nonnegative",
    ),
]


@pytest.mark.parametrize(("table", "row", "constraint"), RAW_VIOLATIONS)
def test_database_checks_are_the_backstop(
    engine: sa.Engine, table: str, row: dict, constraint: str
) -> None:
    """Bypassing sql_io, the database itself rejects each rule and the translation names it."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO symbols (symbol_id) VALUES ('AAPL'), ('MSFT')"))
    t = schema.metadata.tables[table]
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(sa.insert(t).values(row))
    err = translate_integrity_error(t, info.value)
    assert err.constraint == constraint
    assert err.rule == schema.CHECK_RULES[constraint]
    assert str(err).startswith(f"{table}:") and constraint in str(err)


def test_fill_and_signal_checks_and_fk_in_database(engine: sa.Engine) -> None:
    fills = schema.metadata.tables["backtest_fills"]
    base = {"run_id": "r1", "fill_ts": dt.datetime(2024, 1, 2, 15)}
    base |= {"symbol": "AAPL", "side": "buy", "quantity": 1.0, "price": 1.0}
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(sa.insert(fills).values(base))  # run r1 does not exist
    err = translate_integrity_error(fills, info.value)
    if engine.dialect.name == "postgresql":
        assert err.constraint == "fk_backtest_fills_run_id_backtest_runs"
        assert err.rule == "run_id must exist in backtest_runs.run_id"
    else:  # SQLite does not say which foreign key failed
        assert "foreign key" in err.rule and err.table == "backtest_fills"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO backtest_runs (run_id, start_ts, end_ts) VALUES "
                "('r1', '2024-01-02 14:30:00', '2024-01-03 21:00:00')"
            )
        )
    for bad, constraint in [
        ({"price": -0.01}, "ck_backtest_fills_price_nonnegative"),
        ({"quantity": -1.0}, "ck_backtest_fills_quantity_nonnegative"),
        ({"commission": -0.5}, "ck_backtest_fills_commission_nonnegative"),
        ({"side": "short"}, "ck_backtest_fills_side"),
    ]:
        with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
            conn.execute(sa.insert(fills).values(base | bad))
        assert translate_integrity_error(fills, info.value).constraint == constraint
    signals = schema.metadata.tables["backtest_signals"]
    with pytest.raises(sa.exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(
            sa.insert(signals).values(run_id="r1", signal_ts=base["fill_ts"], direction="long")
        )
    assert translate_integrity_error(signals, info.value).constraint == (
        "ck_backtest_signals_direction"
    )


def test_pair_order_is_codepoint_order_on_both_backends(engine: sa.Engine) -> None:
    """'.' (0x2E) sorts before 'A': BRK.B < BRKA by code point (and in Python), whatever the
    database's default collation says."""
    assert "BRK.B" < "BRKA"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO symbols (symbol_id) VALUES ('BRK.B'), ('BRKA')"))
        conn.execute(
            sa.text(
                "INSERT INTO pair_universe (pair_id, symbol_a, symbol_b) "
                "VALUES ('BRK.B_BRKA', 'BRK.B', 'BRKA')"
            )
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO pair_universe (pair_id, symbol_a, symbol_b) "
                "VALUES ('BRKA_BRK.B', 'BRKA', 'BRK.B')"
            )
        )


def test_sqlite_enforces_foreign_keys_on_every_connection(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}"
    try:
        database.upgrade(url)  # creates the parent folder
        assert (tmp_path / "nested" / "dir" / "x.db").exists()
        eng = database.get_engine(url)
        for _ in range(3):
            with eng.connect() as conn:
                assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        database.dispose_engines()
