"""Parameter sweeps in one pass, immutable per-configuration runs and walk-forward out-of-sample
evaluation (docs/research.md)."""
