"""The quick-profile book, built once per test session with ``qbpaper book --profile quick``.

What is checked:

* the build succeeds with Sphinx warnings as errors (-W --keep-going) and logs no warning;
* every chapter was executed by papermill without an error output, and the status page lists
  each chapter with its run time;
* every figure of the paper's results (Figs. 2-12, 14-16) is an image in the HTML;
* every exponent table (three regimes) has all its rows, and Table 1 is there;
* the book is self-contained: MathJax served locally, no intersphinx, author and copyright set,
  Binder launch button;
* a headless Chromium opens the index (which redirects to the first chapter) and the scaling
  chapter: the title is there, every image loaded and MathJax typeset the math.

The build writes only into a temporary folder (executed notebooks, HTML and its own simulation
cache), so it shares nothing with ``make book`` or other tests. It takes several minutes
(``pytest -m "not slow"`` skips it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from qbpaper import book

bs4 = pytest.importorskip("bs4")

ROOT = Path(__file__).resolve().parents[1]
PAPER_FIGURES = [*range(2, 13), 14, 15, 16]
REGIMES = ("tuned-decay", "intermediate", "dephasing-dominated")
EXPONENT_ROWS = {(m, o) for m in ("dicke", "tc")
                 for o in ("E_max", "tau", "P_max", "S_q_final", "S_c_final")}  # fmt: skip
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.slow


class Built:
    def __init__(self, base: Path, proc: subprocess.CompletedProcess, seconds: float):
        self.base = base
        self.proc = proc
        self.seconds = seconds
        self.executed = base / "executed"
        self.html = base / "out" / "_build" / "html"

    def page(self, stem: str):
        path = self.html / "book" / f"{stem}.html"
        return bs4.BeautifulSoup(path.read_text(encoding="utf8"), "html.parser")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("book")
    cmd = [
        sys.executable, "-m", "qbpaper.cli", "book", "--profile", "quick",
        "--executed-dir", str(base / "executed"), "--output-dir", str(base / "out"),
        "-p", "cache", str(base / "cache"),
    ]  # fmt: skip
    env = {**os.environ, "MPLBACKEND": "Agg"}  # as CI sets it; the pipeline must undo it
    env.pop("QBPAPER_CACHE", None)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    print(proc.stdout[-3000:], proc.stderr[-3000:], f"quick build: {seconds:.0f} s", sep="\n")
    return Built(base, proc, seconds)


def test_quick_book_builds_without_warnings(built):
    assert built.proc.returncode == 0, built.proc.stdout[-4000:] + built.proc.stderr[-4000:]
    log = built.proc.stdout + built.proc.stderr
    assert not re.search(r"\bWARNING\b", log), log[-4000:]
    assert (built.html / "index.html").is_file()
    for chapter in book.CHAPTERS:
        assert (built.html / "book" / f"{chapter.stem}.html").is_file(), chapter.name
    # The build time (budget: 15 min on 2 cores) is measured and printed, never asserted:
    # speed is reported from benchmarks and CI logs, not tested.


def test_progress_is_reported_per_chapter(built):
    todo = len(book.notebook_chapters())
    for index, chapter in enumerate(book.notebook_chapters(), 1):
        assert f"[{index}/{todo}] {chapter.name}: done in" in built.proc.stdout


@pytest.mark.parametrize("chapter", book.notebook_chapters(), ids=lambda c: c.name)
def test_chapter_executed_without_error(built, chapter):
    nb = nbformat.read(built.executed / f"{chapter.stem}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in cells), "a cell was not executed"
    errors = [o for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[:1]
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "quick"' in injected[0].source
    status = json.loads((built.executed / "status.json").read_text(encoding="utf8"))
    assert status[chapter.name]["ok"] is True
    assert status[chapter.name]["profile"] == "quick"


def test_status_page_lists_execution_times(built):
    text = built.page("status").get_text(" ", strip=True)
    for chapter in book.notebook_chapters():
        assert chapter.title in text
    assert text.count("passed") == len(book.notebook_chapters())
    assert "not executed" not in text and "failed" not in text
    assert re.search(r"Total \d", text)


@pytest.mark.parametrize("number", PAPER_FIGURES)
def test_paper_figure_is_an_image(built, number):
    found = []
    for chapter in book.notebook_chapters():
        figure = built.page(chapter.stem).find(id=f"paper-fig-{number}")
        if figure is not None:
            found.append((chapter, figure))
    assert len(found) == 1, f"Fig. {number} should appear exactly once"
    chapter, figure = found[0]
    images = figure.find_all("img")
    assert images, f"Fig. {number} has no image"
    src = images[0]["src"]
    assert not src.startswith(("http:", "https:", "data:"))
    assert (built.html / "book" / src).resolve().is_file()
    caption = figure.find("figcaption")
    assert caption is not None
    # the caption names the paper's figure; no running Sphinx number ("Fig. 14 Our Fig. 16")
    assert caption.find(class_="caption-number") is None, caption.get_text(" ", strip=True)
    assert f"Our Fig. {number}" in caption.get_text(" ", strip=True)


@pytest.mark.parametrize("regime", REGIMES)
def test_exponent_table_has_all_rows(built, regime):
    table = built.page("06_scaling").find("table", id=f"exponents-{regime}")
    assert table is not None, f"no exponent table for {regime}"
    body = table.find("tbody")
    rows = body.find_all("tr")
    assert len(rows) == len(EXPONENT_ROWS)
    # the first column (model) spans its rows; collect (model, observable) pairs
    pairs, model = set(), None
    for row in rows:
        heads = [th.get_text(strip=True) for th in row.find_all("th")]
        if len(heads) == 2:
            model = heads[0]
        pairs.add((model, heads[-1]))
        cells = [td.get_text(strip=True) for td in row.find_all("td")]
        assert cells[0], "paper column empty"  # the paper's value
        assert cells[2], "verdict column empty"
    assert pairs == EXPONENT_ROWS


def test_table_1_is_there(built):
    table = built.page("07_cutoff").find("table", id="table-1")
    assert table is not None
    text = table.get_text(" ", strip=True)
    assert "0.99294" in text  # a value of the paper's Table 1, shown beside ours


def test_quasi_ideal_chapter_reports_the_cutoff(built):
    """Figs. 2-3 rest on points with population on the last kept Fock level: the chapter
    shows the top-Fock table of its sweep and the top Fock at the resonance's argmax."""
    page = built.page("03_quasi_ideal")
    table = page.find("table", id="quasi-ideal-top-fock")
    assert table is not None
    text = table.get_text(" ", strip=True)
    assert all(word in text for word in ("dicke", "tc", "driven", "undriven", "> 0.01 (%)"))
    assert "ours: top Fock there" in page.get_text(" ", strip=True)


def test_recorded_benchmark_markdown_tables_render_as_tables(built):
    """The performance chapter shows benchmarks/results/*.md through a Markdown output; its
    pipe tables must become HTML tables (CommonMark, myst-nb's default, has none)."""
    page = built.page("09_performance")
    raw = [p.get_text(" ", strip=True) for p in page.find_all("p")]
    assert not [t for t in raw if t.startswith("|") and t.count("|") > 4], "table left as text"
    headers = [
        [th.get_text(strip=True) for th in table.find_all("th")] for table in page.find_all("table")
    ]
    for path in sorted((book.find_root() / "benchmarks" / "results").glob("*.md")):
        lines = path.read_text(encoding="utf8").splitlines()
        first = next(ln for ln in lines if ln.startswith("|"))  # the table's header row
        expected = [cell.strip() for cell in first.strip().strip("|").split("|")]
        assert expected in headers, (path.name, expected)
    for output in page.select("div.cell_output"):  # file headings (h3) under the section (h2)
        assert not output.find_all(["h1", "h2"]), output.find_all(["h1", "h2"])


def test_file_names_in_markdown_outputs_are_not_linkified(built):
    """linkify (on in the book's MyST config and in GFM output rendering) turns a bare
    'CONVENTIONS.md' into a link to http://CONVENTIONS.md (.md, .py are country domains)."""
    for page in (built.html / "book").glob("*.html"):
        text = page.read_text(encoding="utf8")
        bad = re.findall(r'href="https?://[^"/]*\.(?:md|py|nc|json|yml)"', text)
        assert not bad, (page.name, bad)


def test_book_is_self_contained(built):
    html = (built.html / "book" / "06_scaling.html").read_text(encoding="utf8")
    assert "_static/mathjax/tex-chtml.js" in html
    assert (built.html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in built.html.rglob("*.html"):
        text = page.read_text(encoding="utf8")
        assert "cdn.jsdelivr.net/npm/mathjax" not in text, page
    footers = " ".join(
        " ".join(f.get_text(" ").split()) for f in built.page("01_introduction").find_all("footer")
    )
    assert "By The qbpaper developers" in footers and "Copyright 2026" in footers
    assert "mybinder.org/v2/gh/" in html and "book/06_scaling.ipynb" in html
    # no intersphinx: nothing to fetch at build time
    log = built.proc.stdout + built.proc.stderr
    assert "intersphinx" not in log.lower()


# ----------------------------------------------------------------- headless Chromium
def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("no chromium, and cannot install it (not root or no apt-get)")


#: Appended to each page copy: once the page has loaded, record whether each image decoded.
PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.documentElement.setAttribute("data-probe-images", ok + "/" + imgs.length);
});
</script>"""


@pytest.fixture(scope="module")
def browser_copy(built, tmp_path_factory) -> Path:
    """A copy of the HTML in which each checked page carries the image probe."""
    copy = tmp_path_factory.mktemp("browse") / "html"
    shutil.copytree(built.html, copy)
    for stem in ("01_introduction", "06_scaling"):
        page = copy / "book" / f"{stem}.html"
        text = page.read_text(encoding="utf8")
        page.write_text(text.replace("</body>", PROBE + "</body>", 1), encoding="utf8")
    return copy


@pytest.mark.parametrize(
    ("target", "title"),
    [("index.html", "Superabsorption in a lossy cavity"), ("book/06_scaling.html", "Scaling laws")],
)
def test_chromium_renders_page(browser_copy, target, title):
    chromium = _chromium()
    url = (browser_copy / target).as_uri()
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, "--virtual-time-budget=30000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = bs4.BeautifulSoup(proc.stdout, "html.parser")
    assert dom.title is not None and title in dom.title.get_text()
    heading = dom.find("h1")
    assert heading is not None and title in heading.get_text()
    probe = dom.html.get("data-probe-images")
    assert probe, "the page did not finish loading"
    ok, total = map(int, probe.split("/"))
    assert ok == total, f"{total - ok} of {total} images did not load"
    if target.endswith("06_scaling.html"):
        assert total >= 5  # Figs. 11, 12, 14, 15, 16
    assert dom.find("mjx-container") is not None, "MathJax did not typeset the math"
