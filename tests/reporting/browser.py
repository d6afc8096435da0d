"""Headless Chromium helper for the HTML tests: DevTools protocol over ``--remote-debugging-pipe``.

Opens a page, waits for its load event, collects console errors / uncaught exceptions / error log
entries, times the load, counts the drawn plotly figures, and returns a PNG screenshot (raw bytes
and decoded to an ``(H, W, C)`` uint8 array).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from numba import njit

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


def chromium_or_skip() -> str:
    """Path of ``chromium``; skip the test if absent (fail under ``CI=true``)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "chromium not on PATH (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {msg}")
        pytest.skip(msg)
    return exe


def _fds_3_4(read_end: int, write_end: int):
    """Child-side hook: put the pipe ends on fds 3 (commands in) and 4 (answers out)."""

    def hook() -> None:
        a, b = os.dup(read_end), os.dup(write_end)  # high fds first: 3/4 may be either end
        os.dup2(a, 3)
        os.dup2(b, 4)

    return hook


class _Pipe:
    def __init__(self, exe: str, user_dir: str, width: int, height: int) -> None:
        to_r, to_w = os.pipe()  # we write commands -> chromium fd 3
        from_r, from_w = os.pipe()  # chromium fd 4 -> we read
        self.proc = subprocess.Popen(
            [
                exe,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={user_dir}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_fds_3_4(to_r, from_w),
        )
        os.close(to_r)
        os.close(from_w)
        self.w, self.r = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"CDP {method} failed: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def _read(self, deadline: float = 60.0) -> dict:
        t0 = time.monotonic()
        while b"\0" not in self.buf:
            if time.monotonic() - t0 > deadline:
                raise TimeoutError("no answer from chromium over the DevTools pipe")
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method: str, timeout: float = 60.0) -> dict:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            m = self._read(timeout)
            if m.get("method") == method:
                return m
            self.events.append(m)
        raise TimeoutError(f"chromium: no {method} within {timeout} s")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.w)
        os.close(self.r)


def _errors(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append(f"uncaught: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(
                "console.error: "
                + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            ent = p["entry"]
            out.append(f"log error: {ent.get('text')} ({ent.get('url', '')})")
    return out


# plotly figures whose SVG (or WebGL canvas) has been drawn: plotly adds .main-svg on newPlot
_DRAWN = (
    "Array.from(document.querySelectorAll('.js-plotly-plot')).filter("
    "d => d.querySelector('.main-svg') && d._fullData && d._fullData.length > 0).length"
)


# the tearsheet draws below-the-fold figures lazily; statarbDrawAll() draws the rest (a Promise)
_DRAW_ALL = "window.statarbDrawAll ? window.statarbDrawAll().then(() => " + _DRAWN + ") : -1"


_LOAD_EVENT_MS = "performance.getEntriesByType('navigation')[0].loadEventStart"


class PageResult(NamedTuple):
    """What :func:`open_pages` saw on one page."""

    errors: list[str]
    """Uncaught exceptions, ``console.error``/``assert`` calls, error-level log entries."""
    pixels: np.ndarray
    """Screenshot of the viewport, ``(H, W, C)`` uint8."""
    load_s: float
    """Seconds from ``Page.navigate`` to ``Page.loadEventFired`` (inline scripts included)."""
    plots: int
    """Plotly figures drawn (with at least one trace) when the screenshot was taken."""
    png: bytes
    """The screenshot as PNG bytes (to save and look at)."""
    plots_all: int = -1
    """Figures drawn after ``statarbDrawAll()`` (lazy, below-the-fold figures included); -1 when
    the page has no such function."""
    draw_all_s: float = float("nan")
    """Seconds ``statarbDrawAll()`` took to draw the remaining figures."""
    load_event_s: float = float("nan")
    """The page's own Navigation Timing ``loadEventStart`` (s since navigation start): the load
    time without the DevTools round trips."""


def open_pages(
    paths: list[Path],
    width: int = 1200,
    height: int = 1600,
    settle_s: float = 0.5,
    timeout_s: float = 60.0,
) -> list[PageResult]:
    """Load each path in one headless Chromium and return a :class:`PageResult` per page.

    ``errors`` lists uncaught exceptions, ``console.error``/``assert`` calls and error-level log
    entries (e.g. a failed network request or a lost WebGL context) seen while the page loaded.
    Raises ``TimeoutError`` when a page's load event does not fire within ``timeout_s``.
    """
    exe = chromium_or_skip()
    results = []
    with tempfile.TemporaryDirectory(prefix="chromium-") as user_dir:
        cdp = _Pipe(exe, user_dir, width, height)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sess = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                cdp.send(f"{domain}.enable", session=sess)
            cdp.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=sess,
            )
            for path in paths:
                cdp.events.clear()
                t0 = time.monotonic()
                cdp.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=sess)
                cdp.wait_event("Page.loadEventFired", timeout=timeout_s)
                load_s = time.monotonic() - t0
                time.sleep(settle_s)
                shot = cdp.send("Page.captureScreenshot", {"format": "png"}, session=sess)
                drawn = cdp.send(
                    "Runtime.evaluate", {"expression": _DRAWN, "returnByValue": True}, session=sess
                )  # also flushes pending console events
                png = base64.b64decode(shot["data"])
                plots = int(drawn.get("result", {}).get("value") or 0)
                t1 = time.monotonic()
                every = cdp.send(
                    "Runtime.evaluate",
                    {"expression": _DRAW_ALL, "returnByValue": True, "awaitPromise": True},
                    session=sess,
                )
                draw_all_s = time.monotonic() - t1
                cdp.send("Runtime.evaluate", {"expression": "1"}, session=sess)  # flush events
                plots_all = int(every.get("result", {}).get("value", -1))
                nav = cdp.send(
                    "Runtime.evaluate",
                    {"expression": _LOAD_EVENT_MS, "returnByValue": True},
                    session=sess,
                )
                load_event_s = float(nav.get("result", {}).get("value") or "nan") / 1000.0
                results.append(
                    PageResult(
                        _errors(cdp.events),
                        decode_png(png),
                        load_s,
                        plots,
                        png,
                        plots_all,
                        draw_all_s,
                        load_event_s,
                    )
                )
        finally:
            cdp.close()
    return results


@njit(cache=True)
def _unfilter(raw: np.ndarray, h: int, stride: int, bpp: int) -> np.ndarray:
    out = np.zeros((h, stride), dtype=np.uint8)
    pos = 0
    for y in range(h):
        ft = raw[pos]
        pos += 1
        for x in range(stride):
            v = np.int32(raw[pos + x])
            a = np.int32(out[y, x - bpp]) if x >= bpp else 0
            b = np.int32(out[y - 1, x]) if y > 0 else 0
            c = np.int32(out[y - 1, x - bpp]) if (x >= bpp and y > 0) else 0
            if ft == 1:
                v += a
            elif ft == 2:
                v += b
            elif ft == 3:
                v += (a + b) // 2
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                v += a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            out[y, x] = v & 0xFF
        pos += stride
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) to ``(H, W, C)``."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    w = h = ctype = 0
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            depth, ctype, interlace = body[8], body[9], body[12]
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG variant"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    return _unfilter(raw, h, w * bpp, bpp).reshape(h, w, bpp)


def cold_load_s(path: Path, repeats: int = 3, width: int = 1200, height: int = 1600) -> list[float]:
    """Navigation Timing ``loadEventStart`` (s) of ``path`` opened ``repeats`` times, each in a
    fresh browser context (its own renderer process: no compiled-code or HTTP cache from the
    previous load), in one headless Chromium. The minimum is the page's cold load time with the
    least interference from other processes on a shared machine."""
    exe = chromium_or_skip()
    out = []
    with tempfile.TemporaryDirectory(prefix="chromium-") as user_dir:
        cdp = _Pipe(exe, user_dir, width, height)
        try:
            for _ in range(repeats):
                ctx = cdp.send("Target.createBrowserContext")["browserContextId"]
                target = cdp.send(
                    "Target.createTarget", {"url": "about:blank", "browserContextId": ctx}
                )["targetId"]
                sess = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                    "sessionId"
                ]
                cdp.send("Page.enable", session=sess)
                cdp.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                    session=sess,
                )
                cdp.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=sess)
                cdp.wait_event("Page.loadEventFired", timeout=120)
                nav = cdp.send(
                    "Runtime.evaluate",
                    {"expression": _LOAD_EVENT_MS, "returnByValue": True},
                    session=sess,
                )
                out.append(float(nav["result"]["value"]) / 1000.0)
                cdp.send("Target.disposeBrowserContext", {"browserContextId": ctx})
        finally:
            cdp.close()
    return out


BASELINE_REF_S = 1.2
"""Cold load of a page holding only the inlined plotly.js on this project's reference machine (the
shared 2-core box, lightly loaded): the load budgets below hold on a machine this fast."""


def load_budget_check(page: Path, workdir: Path, budget_s: float, repeats: int = 2) -> dict:
    """Cold load time of ``page`` against ``budget_s``, scaled to the machine's current speed.

    Loads ``page`` and a page with only the inlined plotly.js (the same bundle) ``repeats`` times
    each in fresh browser contexts (:func:`cold_load_s`) and returns ``page_s`` / ``plotly_s``
    (minima) and ``budget_s`` = the budget times ``max(1, plotly_s / BASELINE_REF_S)``: on a
    machine as fast as the reference the budget is exactly ``budget_s``; on a loaded one it
    stretches by the slowdown measured on plotly.js in the same minute (CPU contention from
    other processes must not fail the test, a slow page must)."""
    import plotly.offline

    base = Path(workdir) / "plotly_only.html"
    base.write_text(
        f"<html><head><script>{plotly.offline.get_plotlyjs()}</script></head><body>p</body></html>"
    )
    plotly_s = min(cold_load_s(base, repeats))
    page_s = min(cold_load_s(page, repeats))
    return {
        "page_s": page_s,
        "plotly_s": plotly_s,
        "budget_s": budget_s * max(1.0, plotly_s / BASELINE_REF_S),
    }
