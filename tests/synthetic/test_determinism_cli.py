"""Same seed -> byte-identical files; skip/force behaviour; the ``statarb generate`` command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from statarb.cli import main
from statarb.synthetic.generator import generate

from .conftest import SMALL


def _contents(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_gives_identical_files(small_dir, tmp_path):
    wrote, _ = generate(tmp_path, SMALL)
    assert wrote
    assert _contents(tmp_path) == _contents(small_dir)


def test_different_seed_differs(small_dir, tmp_path):
    generate(tmp_path, SMALL.with_overrides(seed=8))
    a, b = _contents(small_dir), _contents(tmp_path)
    assert a.keys() == b.keys()
    bars = [k for k in a if k.startswith("bars/")]
    assert all(a[k] != b[k] for k in bars)


def test_skip_when_up_to_date_and_force_rewrites(tmp_path):
    assert generate(tmp_path, SMALL)[0]
    before = _contents(tmp_path)
    target = next((tmp_path / "bars").glob("*.csv"))
    mtime = target.stat().st_mtime_ns
    assert not generate(tmp_path, SMALL)[0]
    assert target.stat().st_mtime_ns == mtime
    assert generate(tmp_path, SMALL, force=True)[0]
    assert _contents(tmp_path) == before
    manifest = json.loads((tmp_path / "ground_truth" / "manifest.json").read_text())
    assert manifest["config"]["seed"] == SMALL.seed
    # a different config regenerates and removes files that no longer belong (fewer days)
    assert generate(tmp_path, SMALL.with_overrides(n_days=3))[0]
    assert len(list((tmp_path / "bars").glob("*.csv"))) == 3


def test_cli_generate_small(tmp_path):
    cfg_file = tmp_path / "params.yml"
    cfg_file.write_text(
        "synthetic:\n  start: '2026-03-05'\n  n_missing: 10\n  n_spikes: 3\n  tick_rate_per_sec: 0.2\n"
    )
    out = tmp_path / "raw"
    args = [
        "generate",
        "--out",
        str(out),
        "--config",
        str(cfg_file),
        "--symbols",
        "6",
        "--days",
        "3",
    ]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "3 bar files" in res.output
    assert (out / "ground_truth" / "pairs.json").exists()
    res2 = CliRunner().invoke(main, [*args, "--seed", "7"])
    assert res2.exit_code == 0 and "up to date" in res2.output
    res3 = CliRunner().invoke(main, [*args, "--force"])
    assert res3.exit_code == 0 and "wrote" in res3.output


def test_cli_rejects_unknown_config_key(tmp_path):
    cfg_file = tmp_path / "params.yml"
    cfg_file.write_text("synthetic:\n  n_symbol: 6\n")
    res = CliRunner().invoke(main, ["generate", "--out", str(tmp_path), "--config", str(cfg_file)])
    assert res.exit_code != 0
    assert "synthetic.n_symbol: unknown key (did you mean 'synthetic.n_symbols'?)" in res.output
