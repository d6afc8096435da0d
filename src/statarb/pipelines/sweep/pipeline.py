"""The ``sweep`` pipeline (docs/research.md): ``bars_adjusted``, ``spread_series``,
``cointegration_results``, ``ou_params`` -> every configuration of ``sweep.grid`` in one pass,
stored as ``sweeps`` / ``sweep_results`` (+ the top-k runs in full) by ``SweepDataset``, and the
walk-forward out-of-sample curve. Not part of ``__default__``: run it with
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
        ]
    )
