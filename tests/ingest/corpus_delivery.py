"""The corpus' base delivery and the edits that turn it into malformed inputs (corpus/cases.yml).

``BASE`` is a small ``statarb generate`` delivery; :func:`apply_edits` copies it and applies a
case's edits (text-level for CSV, so every untouched byte stays as generated), returning the
1-based data row of each labelled edit; :func:`baseline_quarantine` maps the generator's ground
truth (file, row, injected rule) to the quarantine rules of ingestion.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import operator
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from statarb.synthetic.config import load_config

CASES_FILE = Path(__file__).parent / "corpus" / "cases.yml"
SYNTH_PARAMS = Path(__file__).resolve().parents[2] / "conf/base/parameters_synthetic.yml"
BASE = load_config(SYNTH_PARAMS).with_overrides(
    n_symbols=6, n_days=3, tick_days=1, tick_symbols=2, n_missing=10
)
# generator rule -> ingestion quarantine rule (missing bars and price spikes are not row defects)
GROUND_TRUTH_RULES = {
    "duplicate_row": "duplicate",
    "unknown_ticker": "unknown_symbol",
    "non_increasing_time": "non_increasing_datetime",
    "negative_price": "negative_price",
    "high_lt_low": "high_lt_low",
    "nan_close": "non_finite_price",
}


def load_cases() -> list[dict[str, Any]]:
    return yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]


def baseline_quarantine(raw: Path) -> set[tuple[str, str, int, str]]:
    """(kind, file, row, rule) of every bad row of the generated delivery: the injected bar
    anomalies of the ground truth, and the tick prints that repeat an earlier print's microsecond
    (the tick store's key is ``(symbol, datetime)``), found here by a plain scan of the file."""
    truth = json.loads((raw / "ground_truth" / "anomalies.json").read_text())["anomalies"]
    out = {
        ("bars", Path(a["file"]).name, int(a["row"]), GROUND_TRUTH_RULES[a["rule"]])
        for a in truth
        if a["rule"] in GROUND_TRUTH_RULES
    }
    for f in sorted((raw / "ticks").glob("*.parquet")):
        latest: dict[str, str] = {}
        for row, (sym, ts) in enumerate(pl.read_parquet(f).select("sym", "ts").iter_rows(), 1):
            if sym in latest and ts <= latest[sym]:  # same-width ISO text: text order = time order
                out.add(("ticks", f.name, row, "non_increasing_datetime"))
            else:
                latest[sym] = ts
    return out


def anomaly_rows(raw: Path) -> set[tuple[str, int]]:
    """(file, row) of every row the generator touched (including spikes), to keep edits apart."""
    truth = json.loads((raw / "ground_truth" / "anomalies.json").read_text())["anomalies"]
    return {(Path(a["file"]).name, int(a["row"])) for a in truth if a["row"] is not None}


# ---- values ------------------------------------------------------------------------------------

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ValueError("not arithmetic")


def render(value: Any, row: dict[str, Any]) -> Any:
    """A case value: ``"{High} + 0.05"`` computed from the row's fields, anything else as is."""
    if not isinstance(value, str) or "{" not in value:
        return value
    text = re.sub(r"\{(\w+)\}", lambda m: str(row[m.group(1)]), value)
    try:
        return repr(_arith(ast.parse(text, mode="eval")))
    except (ValueError, SyntaxError):
        return text


# ---- CSV (text level) ----------------------------------------------------------------------------


def _csv_field(value: Any) -> str:
    text = "" if value is None else str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if ("," in text or '"' in text) else text


class CsvFile:
    """A raw CSV edited line by line (no field of the generated files is quoted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        lines = path.read_text(encoding="utf-8").splitlines()
        self.header = lines[0].split(",")
        self.rows = [line.split(",") for line in lines[1:]]

    def find(self, where: dict[str, Any]) -> int:
        """1-based data row matching every ``where`` field (exactly one must match)."""
        if "row" in where:
            return int(where["row"]) if where["row"] > 0 else len(self.rows) + 1 + where["row"]
        idx = [self.header.index(c) for c in where]
        hits = [
            i + 1
            for i, r in enumerate(self.rows)
            if all(r[j] == str(v) for j, v in zip(idx, where.values(), strict=True))
        ]
        if len(hits) != 1:
            raise LookupError(f"{self.path.name}: {len(hits)} rows match {where}")
        return hits[0]

    def record(self, row: int) -> dict[str, str]:
        return dict(zip(self.header, self.rows[row - 1], strict=True))

    def set(self, row: int, values: dict[str, Any]) -> None:
        rec = self.record(row)
        for col, v in values.items():
            self.rows[row - 1][self.header.index(col)] = _csv_field(render(v, rec))

    def append(self, base: dict[str, Any], values: dict[str, Any]) -> int:
        rec = {c: base.get(c, "") for c in self.header}
        rec |= {c: render(v, base) for c, v in values.items()}
        self.rows.append([_csv_field(rec[c]) for c in self.header])
        return len(self.rows)

    def save(self) -> None:
        lines = [",".join(self.header), *(",".join(r) for r in self.rows)]
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- Parquet (ticks) ---------------------------------------------------------------------------


def _parquet_set(path: Path, where: dict[str, Any], values: dict[str, Any]) -> tuple[int, dict]:
    df = pl.read_parquet(path)
    row = int(where["row"]) if where["row"] > 0 else df.height + 1 + int(where["row"])
    rec = df.row(row - 1, named=True)
    cols = [
        pl.when(pl.int_range(pl.len()) == row - 1)
        .then(pl.lit(render(v, rec), dtype=df.schema[c]))
        .otherwise(pl.col(c))
        .alias(c)
        for c, v in values.items()
    ]
    out = df.with_columns(cols)
    buf = io.BytesIO()
    out.write_parquet(buf)
    path.write_bytes(buf.getvalue())
    return row, out.row(row - 1, named=True)


# ---- edits -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Edited:
    """Result of :func:`apply_edits`: labels -> (file name, row) and the edited rows' fields."""

    labels: dict[str, tuple[str, int]]
    records: dict[str, dict[str, Any]]
    touched: list[tuple[str, int]]


def apply_edits(base: Path, raw: Path, edits: list[dict[str, Any]]) -> Edited:
    """Copy the delivery ``base`` to ``raw`` (raw files only) and apply ``edits`` in order."""
    if not raw.exists():
        shutil.copytree(base, raw, ignore=shutil.ignore_patterns("ground_truth"))
    out = Edited({}, {}, [])
    for edit in edits:
        op = next(k for k in edit if k != "as")
        spec = edit[op]
        path = raw / spec["file"]
        name = path.name
        row, rec = None, {}
        if op == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            if "bytes_hex" in spec:
                path.write_bytes(bytes.fromhex(spec["bytes_hex"]))
            else:
                path.write_text(spec["text"], encoding="utf-8")
        elif op == "text":
            text = path.read_text(encoding="utf-8")
            if spec["old"] not in text:
                raise LookupError(f"{name}: {spec['old']!r} not found")
            path.write_text(text.replace(spec["old"], spec["new"], 1), encoding="utf-8")
        elif op == "set" and path.suffix == ".parquet":
            row, rec = _parquet_set(path, spec["where"], spec["values"])
            out.touched.append((name, row))
        elif op == "set":
            f = CsvFile(path)
            row = f.find(spec["where"])
            f.set(row, spec["values"])
            rec = f.record(row)
            f.save()
            out.touched.append((name, row))
        elif op == "append":
            f = CsvFile(path)
            base_rec = f.record(f.find(spec["from"])) if "from" in spec else {}
            rows = [f.append(base_rec, values) for values in spec["rows"]]
            row, rec = rows[0], f.record(rows[0])
            f.save()
        else:
            raise ValueError(f"unknown edit {op!r}")
        if "as" in edit:
            out.labels[edit["as"]] = (name, row)  # type: ignore[assignment]
            out.records[edit["as"]] = rec
    return out


def resolve_row(ref: Any, edited: Edited) -> int | None:
    """A case's ``row``: an int, null, a label or ``label+N``."""
    if ref is None or isinstance(ref, int):
        return ref
    label, _, plus = str(ref).partition("+")
    return edited.labels[label][1] + (int(plus) if plus else 0)
