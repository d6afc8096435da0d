"""The ``preprocessing`` pipeline: adjusted bars with outlier flags, and bars from ticks."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_bars_adjusted, build_tick_bars


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                build_bars_adjusted,
                ["bars", "corporate_actions", "params:preprocessing"],
                "bars_adjusted",
                name="build_bars_adjusted",
            ),
            Node(
                build_tick_bars,
                ["ticks", "params:preprocessing"],
                "tick_bars",
                name="build_tick_bars",
            ),
        ]
    )
