"""Seeded synthetic market: vendor-style raw files plus the ground truth they were built from.

Entry points: :func:`statarb.synthetic.generator.generate` (write files) and
:func:`statarb.synthetic.market.simulate_market` (in-memory, for tests). See ``docs/synthetic-data.md``.
"""

from statarb.synthetic.config import SyntheticConfig, load_config

__all__ = ["SyntheticConfig", "load_config"]
