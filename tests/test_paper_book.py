"""The paper-profile book from the committed data alone: ``qbpaper book --profile paper
--no-compute`` on a fresh cache, as a reader of a fresh clone would run it.

What is checked: every chapter executes without an error output (chapter 7's Table 1 forensics
once failed here, with no point of its scan computed), the status records the paper profile and
``--no-compute``, the sweeps computed nothing (the fresh cache folder is never created), and the
chapters read the committed grids (the dephasing chapter has complete panels to show). The HTML
is not built (the quick-profile test builds and checks it). It takes several minutes
(``pytest -m "not slow"`` skips it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from qbpaper import book

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paper_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("paper_book")
    cache = base / "cache"
    cmd = [
        sys.executable, "-m", "qbpaper.cli", "book", "--profile", "paper", "--no-compute",
        "--no-html", "--executed-dir", str(base / "executed"), "--output-dir", str(base / "out"),
        "-p", "cache", str(cache),
    ]  # fmt: skip
    env = {**os.environ, "MPLBACKEND": "Agg", "QBPAPER_CACHE": str(cache)}
    env.pop("QBPAPER_DATA", None)  # the committed data/paper/ of this checkout
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    print(proc.stdout[-3000:], proc.stderr[-3000:],
          f"paper build (no compute): {time.perf_counter() - start:.0f} s", sep="\n")  # fmt: skip
    return base, cache, proc


def test_paper_book_builds_from_committed_data_without_computing(paper_build):
    base, cache, proc = paper_build
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    status = json.loads((base / "executed" / "status.json").read_text(encoding="utf8"))
    for chapter in book.notebook_chapters():
        entry = status[chapter.name]
        assert entry["ok"] is True and entry["profile"] == "paper" and entry["no_compute"]
        nb = nbformat.read(base / "executed" / f"{chapter.stem}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.output_type == "error"]  # fmt: skip
        assert not errors, (chapter.name, errors[:1])
    assert not cache.exists(), "a --no-compute build computed sweep points"


def test_paper_chapters_read_the_committed_grids(paper_build):
    base, _, proc = paper_build
    assert proc.returncode == 0
    nb = nbformat.read(base / "executed" / "05_dephasing_relaxation.ipynb", as_version=4)
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "no complete (gamma_relax x gamma_deph) panel computed yet" not in text
