"""Cold load time of tearsheets in headless Chromium against plotly.js alone.

Run from the project root, after `make run`:
    .venv/bin/python benchmarks/bench_tearsheet_load.py [page.html ...] [--repeats 3]
Without pages: the newest data/08_reporting/bt_*/tearsheet.html. Each page (and a page holding only
the inlined plotly.js) is loaded `repeats` times, each in a fresh browser context (no compiled-code
cache), rounds interleaved; prints every load (Navigation Timing loadEventStart), the best, and the
figures drawn at load / in all. On a shared machine compare pages measured in the same run only.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, ".")
import plotly.offline  # noqa: E402
from tests.reporting.browser import cold_load_s, open_pages  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("pages", nargs="*", type=Path)
ap.add_argument("--repeats", type=int, default=3)
args = ap.parse_args()
pages = args.pages or [
    max(Path("data/08_reporting").glob("bt_*/tearsheet.html"), key=lambda p: p.stat().st_mtime)
]
with tempfile.TemporaryDirectory() as tmp:
    base = Path(tmp) / "plotly_only.html"
    base.write_text(f"<html><head><script>{plotly.offline.get_plotlyjs()}</script></head></html>")
    rows = {p: [] for p in [base, *pages]}
    for _ in range(args.repeats):
        for p in rows:
            rows[p] += cold_load_s(p, 1)
    drawn = dict(zip(pages, open_pages(pages, timeout_s=120), strict=True))
    print(f"{'page':60s} {'MB':>6s} {'best s':>7s}  loads s; figures at load / all; errors")
    for p, loads in rows.items():
        r = drawn.get(p)
        extra = f"; {r.plots} / {r.plots_all}; {len(r.errors)}" if r else ""
        name = "plotly.js only" if p == base else str(p)
        mb = p.stat().st_size / 1e6
        print(
            f"{name[-60:]:60s} {mb:6.2f} {min(loads):7.2f}  {[round(x, 2) for x in loads]}{extra}"
        )
