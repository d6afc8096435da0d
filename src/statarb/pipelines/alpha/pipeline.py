"""The ``alpha`` pipeline: ``bars_adjusted`` -> ``pair_universe``, ``cointegration_results``,
``selection_log``, ``spread_series``, ``kalman_params``, ``ou_params``, ``ou_output``
(see docs/alpha.md and docs/cointegration.md)."""

from kedro.pipeline import Pipeline, node

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                nodes.build_universe,
                ["symbols", "alpha_symbols_sectors", "params:alpha"],
                "alpha_universe",
                name="alpha_build_universe",
            ),
            node(nodes.register_universe, "alpha_universe", "pair_universe", name="alpha_register"),
            node(
                nodes.build_price_panel,
                ["bars_adjusted", "alpha_universe"],
                "alpha_price_panel",
                name="alpha_price_panel",
            ),
            node(
                nodes.build_alpha_schedule,
                ["alpha_price_panel", "params:alpha"],
                "alpha_schedule",
                name="alpha_schedule",
            ),
            node(
                nodes.screen_universe,
                [
                    "alpha_price_panel",
                    "alpha_universe",
                    "alpha_schedule",
                    "params:alpha",
                    "params:compute",
                ],  # fmt: skip
                ["cointegration_results", "selection_log"],
                name="alpha_screening",
            ),
            node(
                nodes.spreads_and_ou,
                [
                    "alpha_price_panel",
                    "alpha_universe",
                    "cointegration_results",
                    "alpha_schedule",
                    "params:alpha",
                    "params:compute",
                ],
                ["spread_series", "kalman_params", "ou_params", "ou_output"],
                name="alpha_spreads_ou",
            ),
        ]
    )
