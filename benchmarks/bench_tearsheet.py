"""Tearsheet page size and headless-Chromium load time: SVG vs WebGL lines, top-N vs all pairs.

Run from the project root: .venv/bin/python benchmarks/bench_tearsheet.py [n_pairs n_bars]
(needs Debian's chromium).
Reference = the pre-fix configuration measured in the same run: every pair plotted, Scattergl,
20 000 points per trace.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, ".")
from tests.reporting.browser import open_pages  # noqa: E402
from tests.reporting.synthetic import make_many_pair_run  # noqa: E402

from statarb.reporting import tearsheet  # noqa: E402
from statarb.reporting.run_metrics import compute_run_metrics  # noqa: E402

n_pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
n_bars = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
run = make_many_pair_run(n_pairs, n_bars)
res = compute_run_metrics(
    "bt_many_001", run["equity"], run["fills"], run["signals"], run["bars_adjusted"]
)
configs = {
    "reference: all pairs, webgl, 20k pts": dict(max_pair_plots=-1, webgl=True, max_points=20_000),
    "all pairs, svg, 4k pts": dict(max_pair_plots=-1, webgl=False, max_points=4_000),
    "top 8, webgl, 4k pts": dict(max_pair_plots=8, webgl=True, max_points=4_000),
    "top 8, svg, 4k pts (default)": dict(max_pair_plots=8, webgl=False, max_points=4_000),
    "top 8, svg, 2k pts": dict(max_pair_plots=8, webgl=False, max_points=2_000),
}
with tempfile.TemporaryDirectory() as tmp:
    pages = {}
    for name, kw in configs.items():
        t0 = time.perf_counter()
        pages[name] = tearsheet.render_tearsheet(
            Path(tmp) / name.replace(" ", "_").replace(",", "").replace(":", ""),
            run["runs"].row(0, named=True),
            res["row"],
            res["full"],
            run["equity"],
            run["signals"],
            res["trips"],
            spreads=run["spreads"],
            ou=run["ou"],
            **kw,
        )
        pages[name] = (pages[name], time.perf_counter() - t0)
    ref_name = next(iter(configs))
    results = {}
    for name, (page, _) in pages.items():
        try:
            (r,) = open_pages([page], timeout_s=120)
            results[name] = r
        except TimeoutError as e:
            results[name] = e
    ref = results[ref_name]
    print(f"{n_pairs} pairs x {n_bars} bars")
    print(
        f"{'config':40s} {'MB':>7s} {'render s':>9s} {'load s':>7s} {'x ref':>6s} {'plots':>5s} errors"
    )
    for name, (page, rs) in pages.items():
        r = results[name]
        mb = page.stat().st_size / 1e6
        if isinstance(r, Exception):
            print(f"{name:40s} {mb:7.1f} {rs:9.2f}  timeout")
            continue
        ratio = r.load_s / ref.load_s if not isinstance(ref, Exception) else float("nan")
        print(
            f"{name:40s} {mb:7.1f} {rs:9.2f} {r.load_s:7.2f} {ratio:6.2f} {r.plots:5d} {len(r.errors)} {r.errors[:1]}"
        )
