"""The ``backtest`` pipeline: ``bars_adjusted``, ``spread_series``, ``cointegration_results``,
``ou_params`` -> one run in ``backtest_runs``/``_signals``/``_fills``/``_equity`` (one
transaction, through ``BacktestRunDataset``) and ``backtest_run_id`` for reporting."""

from kedro.pipeline import Pipeline, node

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.run_backtest_node,
                [
                    "bars_adjusted",
                    "spread_series",
                    "cointegration_results",
                    "ou_params",
                    "pair_universe",
                    "params:backtest",
                    "params:compute",
                ],
                "backtest_run",
                name="backtest_run",
            ),
            node(nodes.run_id_of, "backtest_run", "backtest_run_id", name="backtest_run_id"),
        ]
    )
