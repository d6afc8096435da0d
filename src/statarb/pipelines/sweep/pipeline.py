"""The ``sweep`` pipeline (docs/research.md): ``bars_adjusted``, ``spread_series``,
``cointegration_results``, ``ou_params`` -> every configuration of ``sweep.grid`` in one pass,
stored as ``sweeps`` / ``sweep_results`` (+ the top-k runs in full) by ``SweepDataset``, and the
walk-forward out-of-sample curve; then the tearsheet's research frames of the best configuration,
whose run becomes ``backtest_run_id`` (the run ``kedro run --pipelines reporting`` reports next).
Not part of ``__default__``: run it with
``kedro run --pipelines sweep``."""

from kedro.pipeline import Pipeline, node

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.run_sweep_node,
                [
                    "bars_adjusted",
                    "spread_series",
                    "cointegration_results",
                    "ou_params",
                    "pair_universe",
                    "params:backtest",
                    "params:sweep",
                    "params:alpha",
                ],
                "sweep_run",
                name="sweep_run",
            ),
            node(nodes.sweep_id_of, "sweep_run", "sweep_id", name="sweep_id"),
            node(
                nodes.sweep_report_frames,
                ["sweep_run", "backtest_equity"],
                [
                    "report_sweep_grid",
                    "report_walk_forward",
                    "report_cost_sensitivity",
                    "report_trial_stats",
                    "backtest_run_id",
                ],
                name="sweep_report_frames",
            ),
        ]
    )
