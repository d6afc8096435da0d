"""The ``reporting`` pipeline: ``backtest_run_id`` -> ``backtest_metrics`` + HTML reports.

Input ``backtest_run_id`` is the backtest pipeline's output (the stored run's id; ``"latest"``
selects the newest run). Outputs: the run's ``backtest_metrics`` row (upsert on ``run_id``),
``data/08_reporting/<run_id>/tearsheet.html`` and ``data/08_reporting/index.html``.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import build_reports, compute_backtest_metrics


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                compute_backtest_metrics,
                inputs=[
                    "backtest_run_id",
                    "backtest_runs",
                    "backtest_signals",
                    "backtest_fills",
                    "backtest_equity",
                    "bars_adjusted",
                    "params:reporting",
                    "backtest_accruals",
                    "report_trial_stats",
                    "report_walk_forward",
                ],
                outputs="backtest_metrics",
                name="compute_backtest_metrics",
            ),
            Node(
                build_reports,
                inputs=[
                    "backtest_run_id",
                    "backtest_metrics",
                    "backtest_runs",
                    "backtest_signals",
                    "backtest_fills",
                    "backtest_equity",
                    "spread_series",
                    "ou_params",
                    "selection_log",
                    "report_sweep_grid",
                    "report_walk_forward",
                    "report_cost_sensitivity",
                    "report_trial_stats",
                    "params:reporting",
                ],
                outputs="reporting_tearsheet_path",
                name="build_reports",
            ),
        ]
    )
