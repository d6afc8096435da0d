"""Errors of the backtest configuration."""


class BacktestConfigError(ValueError):
    """A backtest parameter or cost file violates a rule; the message names the key and the rule."""


class BacktestInputError(ValueError):
    """Input frames are missing columns or pairs; the message names the frame and the rule."""
