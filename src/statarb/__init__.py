"""statarb: a Kedro framework for pairs-trading / statistical-arbitrage research."""

__version__ = "0.1.0"
