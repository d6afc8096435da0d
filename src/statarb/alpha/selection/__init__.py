"""The pair-selection funnel: test, multiple testing, spread quality, matching, confirmation, persistence
(stage numbers as in :mod:`.funnel`)."""
