"""The pair-selection funnel: test, multiple testing, spread quality, matching, persistence."""
