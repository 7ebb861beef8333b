"""The book pipeline: MyST chapters -> jupytext -> papermill -> Jupyter Book 1 HTML.

The chapters are MyST Markdown notebooks in ``book/`` (one per section of the paper). Each
opens with a cell tagged ``parameters``; :func:`build_book` converts every chapter to a
notebook with jupytext, executes it with papermill using the parameters of a *profile*
(``quick`` for CI and teaching, ``paper`` for the full grids), stores the executed notebooks in
``book/_executed/`` (git-ignored) and builds the HTML with Jupyter Book 1 (``execute_notebooks:
off``, warnings are errors).

The HTML is built from a staging copy of the sources (``_build/src``) in which every chapter is
its executed ``.ipynb`` and nothing else: the MyST ``.md`` and the ``.ipynb`` of a chapter never
sit side by side, so Sphinx never sees two documents with one name. The staging copy also
receives the status page (execution time of every chapter).

Re-running one chapter with other parameters is :func:`run_notebook`; an unknown parameter name
is an error listing the valid ones (papermill alone only warns).
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qbpaper.environ import temporary_environ

PROFILES = ("quick", "paper")

#: Per-cell execution timeout (seconds) of each profile.
CELL_TIMEOUT = {"quick": 900, "paper": 7 * 24 * 3600}

#: Matplotlib backend forced in the kernels: an inherited MPLBACKEND=Agg (CI sets it) would
#: otherwise make every figure vanish silently from the executed notebooks.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

STATUS_MARKER = "<!-- qbpaper:status-table -->"

Log = Callable[[str], None]


class BookError(Exception):
    """A user-facing error of the book pipeline (bad chapter, parameter, missing tool)."""


@dataclass(frozen=True)
class Chapter:
    """One page of the book.

    ``name`` is what the command line accepts (the number and the file stem work as well);
    ``notebook`` is False for plain Markdown pages (no code, nothing to execute);
    ``profiles`` holds, per profile, the parameter values that profile sets (on top of the
    ``profile`` parameter itself, which every notebook chapter has).
    """

    number: int
    name: str
    stem: str
    title: str
    notebook: bool = True
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """Path of the MyST source relative to the repository root."""
        return f"book/{self.stem}.md"


_PAPER = {"workers": max(2, os.cpu_count() or 2)}

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "introduction", "01_introduction", "Introduction"),
    Chapter(2, "model", "02_model", "Model and observables", profiles={"paper": _PAPER}),
    Chapter(3, "quasi_ideal", "03_quasi_ideal", "Quasi-ideal dynamics", profiles={"paper": _PAPER}),
    Chapter(4, "cavity_leakage", "04_cavity_leakage", "Cavity leakage", profiles={"paper": _PAPER}),
    Chapter(
        5,
        "dephasing_relaxation",
        "05_dephasing_relaxation",
        "Dephasing and relaxation",
        profiles={"paper": _PAPER},
    ),
    Chapter(6, "scaling", "06_scaling", "Scaling laws", profiles={"paper": _PAPER}),
    Chapter(7, "cutoff", "07_cutoff", "Cutoff convergence", profiles={"paper": _PAPER}),
    Chapter(
        8,
        "validation",
        "08_validation",
        "Validation",
        profiles={"paper": {**_PAPER, "sizes": [1, 2, 3, 5, 10, 15, 20]}},
    ),
    Chapter(
        9,
        "performance",
        "09_performance",
        "Performance",
        profiles={"paper": {"sizes": [2, 5, 10, 20, 50]}},
    ),
    Chapter(10, "rerunning", "10_rerunning", "Re-running the book"),
    Chapter(12, "scorecard", "12_scorecard", "Reproduction scorecard", profiles={"paper": _PAPER}),
    Chapter(11, "references", "11_references", "References", notebook=False),
)

#: Pages of the table of contents that are not chapters.
STATUS_PAGE = "book/status.md"


# --------------------------------------------------------------------------- locations
def find_root(start: Path | None = None) -> Path:
    """The repository root: the first folder upwards holding ``_config.yml`` and ``book/``."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "_config.yml").is_file() and (candidate / "book").is_dir():
            return candidate
    package_parent = Path(__file__).resolve().parents[1]
    if (package_parent / "_config.yml").is_file():
        return package_parent
    raise BookError(
        "cannot find the book: no folder above the current one holds _config.yml and book/"
    )


def get_chapter(key: str | int) -> Chapter:
    """Look a chapter up by name, number or file stem; the error lists the valid names."""
    text = str(key).strip()
    for chapter in CHAPTERS:
        if text in (chapter.name, chapter.stem, chapter.source, str(chapter.number)):
            return chapter
        if text.isdigit() and int(text) == chapter.number:
            return chapter
    names = ", ".join(c.name for c in CHAPTERS)
    raise BookError(f"unknown chapter {text!r}; valid chapters: {names}")


def get_notebook_chapter(key: str | int) -> Chapter:
    """:func:`get_chapter`, refusing a plain page (it has no parameters to list or re-run)."""
    chapter = get_chapter(key)
    if not chapter.notebook:
        raise BookError(f"chapter '{chapter.name}' is a plain page with no parameters to re-run")
    return chapter


def notebook_chapters() -> tuple[Chapter, ...]:
    return tuple(c for c in CHAPTERS if c.notebook)


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Parameter:
    """One assignment of a chapter's ``parameters`` cell."""

    name: str
    default: Any
    source: str
    help: str


def read_chapter(chapter: Chapter, root: Path) -> Any:
    """The chapter as an nbformat notebook (jupytext reads the MyST source)."""
    import jupytext

    path = root / chapter.source
    if not path.is_file():
        raise BookError(f"chapter source {path} is missing")
    nb = jupytext.read(path, fmt="md:myst")
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    return nb


def parameters_cell_index(nb: Any) -> int:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


def notebook_parameters(nb: Any) -> dict[str, Parameter]:
    """Names, defaults and comments of the assignments in the ``parameters`` cell."""
    index = parameters_cell_index(nb)
    if index < 0:
        return {}
    source = nb.cells[index].source
    lines = source.splitlines()
    found: dict[str, Parameter] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if value is None:
            continue
        text = ast.get_source_segment(source, value) or ""
        try:
            default = ast.literal_eval(value)
        except ValueError:
            default = text
        line = lines[node.end_lineno - 1] if node.end_lineno else ""
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = Parameter(target.id, default, text, comment)
    return found


def chapter_parameters(chapter: Chapter, root: Path) -> dict[str, Parameter]:
    if not chapter.notebook:
        return {}
    return notebook_parameters(read_chapter(chapter, root))


def profile_parameters(chapter: Chapter, profile: str) -> dict[str, Any]:
    """The parameter values a profile sets for a chapter."""
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    values: dict[str, Any] = {"profile": profile}
    values.update(chapter.profiles.get(profile, {}))
    return values


def check_parameters(chapter: Chapter, names: Iterable[str], valid: Mapping[str, Any]) -> None:
    """Raise BookError naming the unknown parameters and listing the valid ones."""
    unknown = [n for n in names if n not in valid]
    if unknown:
        listed = ", ".join(valid) or "(none)"
        plural = "s" if len(unknown) > 1 else ""
        raise BookError(
            f"unknown parameter{plural} {', '.join(map(repr, unknown))} for chapter "
            f"'{chapter.name}'; valid names: {listed}"
        )


def parse_value(text: str) -> Any:
    """A command-line value: YAML scalars and lists (``5``, ``0.1``, ``1e-3``, ``true``,
    ``[5, 10]``); ``None``/``null`` is None; anything else stays a string."""
    import yaml

    if text.strip() in ("None", "none", "null", "~"):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return _numbers(value)


def _numbers(value: Any) -> Any:
    """YAML 1.1 reads ``1e-3`` (no dot) as a string: make such strings floats."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- execution
def _kernel_environment():
    """Environment inherited by the kernels: inline matplotlib, no stray backend."""
    return temporary_environ({"MPLBACKEND": INLINE_BACKEND, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})


def execute_chapter(
    chapter: Chapter,
    parameters: Mapping[str, Any],
    output: Path,
    *,
    root: Path,
    timeout: float | None,
    progress: bool = False,
) -> float:
    """Convert, parameterise and execute one chapter; write the executed notebook to
    ``output``. Returns the wall time in seconds; raises papermill's execution error (the
    notebook with the traceback is written all the same)."""
    import nbformat
    import papermill

    nb = read_chapter(chapter, root)
    valid = notebook_parameters(nb)
    check_parameters(chapter, parameters, valid)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _kernel_environment():
        papermill.execute_notebook(
            nb,
            str(output),
            parameters=dict(parameters),
            kernel_name="python3",
            language="python",
            progress_bar=progress,
            cwd=str(root / "book"),
            execution_timeout=None if timeout is None or timeout <= 0 else math.ceil(timeout),
            # the kernel's own start-up chatter (e.g. "running over TCP") is not ours to show
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    seconds = time.perf_counter() - start
    executed = nbformat.read(output, as_version=4)
    executed.metadata.setdefault("qbpaper", {}).update(
        {"chapter": chapter.name, "parameters": dict(parameters), "seconds": round(seconds, 2)}
    )
    nbformat.write(executed, output)
    return seconds


# --------------------------------------------------------------------------- status record
def _status_path(executed_dir: Path) -> Path:
    return executed_dir / "status.json"


def load_status(executed_dir: Path) -> dict[str, dict[str, Any]]:
    path = _status_path(executed_dir)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError:
        return {}


def _save_status(executed_dir: Path, status: Mapping[str, Any]) -> None:
    executed_dir.mkdir(parents=True, exist_ok=True)
    path = _status_path(executed_dir)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(status, indent=2, sort_keys=True, default=str), encoding="utf8")
    tmp.replace(path)


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)} min {rest:02.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes):02d} min"


def status_table(status: Mapping[str, Mapping[str, Any]]) -> str:
    """The Markdown table of the status page (one row per notebook chapter)."""
    rows = [
        "| Chapter | Profile | Executed (UTC) | Run time | Result |",
        "|---|---|---|---|---|",
    ]
    total = 0.0
    for chapter in notebook_chapters():
        record = status.get(chapter.name)
        link = f"{{doc}}`{chapter.title} <{chapter.stem}>`"
        if not record:
            rows.append(f"| {link} | - | - | - | not executed |")
            continue
        seconds = record.get("seconds")
        total += float(seconds or 0.0)
        result = "passed" if record.get("ok") else f"failed: {record.get('error', 'error')}"
        result = result.replace("|", "/").replace("\n", " ")[:120]
        profile = str(record.get("profile", "-"))
        if record.get("no_compute"):
            profile += " (no compute: cached and committed points only)"
        rows.append(
            f"| {link} | {profile} | {record.get('finished', '-')} "
            f"| {_format_seconds(seconds)} | {result} |"
        )
    rows.append(f"| **Total** | | | **{_format_seconds(total)}** | |")
    return "\n".join(rows)


def _environment_lines() -> str:
    from qbpaper import __version__

    return (
        f"Built with qbpaper {__version__}, Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()} with {os.cpu_count()} CPU cores."
    )


# --------------------------------------------------------------------------- staging + HTML
def stage_sources(root: Path, executed_dir: Path, stage: Path, log: Log = print) -> None:
    """Write the source tree Jupyter Book builds: configuration, static files, the executed
    notebooks (an unexecuted conversion where none exists yet) and the status page."""
    import jupytext
    import nbformat

    if stage.exists():
        shutil.rmtree(stage)
    (stage / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage / name)
    chapter_sources = {c.source for c in CHAPTERS if c.notebook}
    for item in sorted((root / "book").iterdir()):
        rel = f"book/{item.name}"
        if rel in chapter_sources or item.resolve() == executed_dir.resolve():
            continue
        if item.name.startswith((".", "_build")) or item.name == "__pycache__":
            continue
        if item.name.endswith(".ipynb"):  # stray notebooks (Binder conversions, checkpoints)
            continue
        if item.is_dir():
            shutil.copytree(item, stage / rel, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        else:
            shutil.copy2(item, stage / rel)
    for chapter in notebook_chapters():
        executed = executed_dir / f"{chapter.stem}.ipynb"
        target = stage / "book" / f"{chapter.stem}.ipynb"
        if executed.is_file():
            shutil.copy2(executed, target)
        else:
            log(f"  note: {chapter.name} has not been executed; the book shows its code only")
            nb = jupytext.read(root / chapter.source, fmt="md:myst")
            nbformat.write(nb, target)
    status_page = stage / STATUS_PAGE
    text = status_page.read_text(encoding="utf8") if status_page.is_file() else ""
    table = status_table(load_status(executed_dir)) + "\n\n" + _environment_lines()
    if STATUS_MARKER in text:
        text = text.replace(STATUS_MARKER, table)
    else:
        text = f"# Execution status\n\n{table}\n"
    status_page.write_text(text, encoding="utf8")


def jupyter_book_command() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    if script.is_file():
        return [str(script)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


def build_html(stage: Path, output_dir: Path, *, log: Log = print, quiet: bool = False) -> Path:
    """Run ``jupyter-book build`` (-W --keep-going) on the staging tree; return the HTML
    folder. Raises BookError with the warnings when the build fails."""
    cmd = [
        *jupyter_book_command(),
        "build",
        str(stage),
        "--path-output",
        str(output_dir),
        "-W",
        "--keep-going",
        "--all",
    ]
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if not quiet or proc.returncode:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        warnings = [ln for ln in lines if "WARNING" in ln or "ERROR" in ln]
        for line in warnings:
            log(f"  {line}")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise BookError(f"jupyter-book build failed (exit {proc.returncode}):\n{tail}")
    return output_dir / "_build" / "html"


# --------------------------------------------------------------------------- the commands
@dataclass
class BookResult:
    html: Path | None
    executed: dict[str, float]
    failed: dict[str, str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failed and self.html is not None


def _select(chapters: Iterable[str | int] | None) -> list[Chapter]:
    if not chapters:
        return list(CHAPTERS)
    selected: list[Chapter] = []
    for key in chapters:
        chapter = get_chapter(key)
        if chapter not in selected:
            selected.append(chapter)
    return selected


def plan_parameters(
    chapters: Iterable[Chapter],
    profile: str,
    overrides: Mapping[str, Any],
    root: Path,
) -> dict[str, dict[str, Any]]:
    """Per notebook chapter, the parameters to inject. Each override goes to the chapters
    that have it; one that no selected chapter has is an error listing the valid names."""
    plans: dict[str, dict[str, Any]] = {}
    known: dict[str, None] = {}
    for chapter in chapters:
        if not chapter.notebook:
            continue
        valid = chapter_parameters(chapter, root)
        known.update(dict.fromkeys(valid))
        base = {k: v for k, v in profile_parameters(chapter, profile).items() if k in valid}
        base.update({k: v for k, v in overrides.items() if k in valid})
        plans[chapter.name] = base
    unknown = [k for k in overrides if k not in known]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise BookError(
            f"unknown parameter{plural} {', '.join(map(repr, unknown))}; valid names: "
            + ", ".join(known)
        )
    return plans


def _one_line(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    return f"{ename}: {evalue}".splitlines()[0][:300]


def build_book(
    profile: str = "quick",
    chapters: Iterable[str | int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
    executed_dir: Path | None = None,
    output_dir: Path | None = None,
    html: bool = True,
    timeout: float | None = None,
    compute: bool = True,
    log: Log = print,
) -> BookResult:
    """Execute the selected chapters (all by default) with a profile and build the HTML.

    Chapters not selected keep their previously executed notebook (if any). Progress is
    reported per chapter through ``log``. ``compute=False`` makes every sweep of the chapters
    use cached and committed points only (missing points are NaN), e.g. to build the paper
    profile from ``data/paper/`` without days of computing.
    """
    from qbpaper.sweep import COMPUTE_ENV, sweeps_compute

    if not compute:
        with temporary_environ({COMPUTE_ENV: "0"}):
            return build_book(profile, chapters, overrides, root=root,
                              executed_dir=executed_dir, output_dir=output_dir, html=html,
                              timeout=timeout, compute=True, log=log)  # fmt: skip
    root = find_root(root)
    executed_dir = Path(executed_dir or root / "book" / "_executed").resolve()
    output_dir = Path(output_dir or root).resolve()
    timeout = CELL_TIMEOUT.get(profile, 900) if timeout is None else timeout
    selected = _select(chapters)
    plans = plan_parameters(selected, profile, dict(overrides or {}), root)
    status = load_status(executed_dir)
    executed: dict[str, float] = {}
    failed: dict[str, str] = {}
    start = time.perf_counter()
    todo = [c for c in selected if c.notebook]
    progress = sys.stderr.isatty()
    for index, chapter in enumerate(todo, 1):
        params = plans[chapter.name]
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        log(f"[{index}/{len(todo)}] {chapter.name}: executing ({shown})")
        output = executed_dir / f"{chapter.stem}.ipynb"
        record: dict[str, Any] = {"profile": profile, "parameters": params}
        if not sweeps_compute():
            record["no_compute"] = True  # built from cached and committed data only
        chapter_start = time.perf_counter()
        try:
            seconds = execute_chapter(
                chapter, params, output, root=root, timeout=timeout, progress=progress
            )
        except BookError:
            raise
        except Exception as exc:  # papermill's execution error, a dead kernel, a timeout
            seconds = time.perf_counter() - chapter_start
            failed[chapter.name] = _one_line(exc)
            record.update(ok=False, error=failed[chapter.name])
            log(f"[{index}/{len(todo)}] {chapter.name}: FAILED: {failed[chapter.name]}")
        else:
            executed[chapter.name] = seconds
            record.update(ok=True)
            log(f"[{index}/{len(todo)}] {chapter.name}: done in {_format_seconds(seconds)}")
        record.update(
            seconds=round(seconds, 2),
            finished=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M"),
        )
        status[chapter.name] = record
        _save_status(executed_dir, status)
    html_dir = None
    if html:
        log("building the HTML with jupyter-book (-W --keep-going)")
        stage = output_dir / "_build" / "src"
        stage_sources(root, executed_dir, stage, log=log)
        html_dir = build_html(stage, output_dir, log=log)
        log(f"HTML: {html_dir / 'index.html'}")
    total = time.perf_counter() - start
    failures = f"; FAILED: {', '.join(failed)}" if failed else ""
    log(f"book finished in {_format_seconds(total)}{failures}")
    return BookResult(html=html_dir, executed=executed, failed=failed, seconds=total)


def run_notebook(
    chapter_key: str | int,
    overrides: Mapping[str, Any] | None = None,
    *,
    profile: str = "quick",
    output: Path | None = None,
    root: Path | None = None,
    timeout: float | None = None,
    log: Log = print,
) -> Path:
    """Re-run one chapter with new parameters; returns the executed notebook's path.

    Raises BookError for an unknown chapter or parameter name (before anything runs)."""
    root = find_root(root)
    chapter = get_notebook_chapter(chapter_key)
    valid = chapter_parameters(chapter, root)
    overrides = dict(overrides or {})
    check_parameters(chapter, overrides, valid)
    params = {k: v for k, v in profile_parameters(chapter, profile).items() if k in valid}
    params.update(overrides)
    if output is None:
        output = root / "book" / "_executed" / "reruns" / f"{chapter.stem}.ipynb"
    output = Path(output)
    if output.suffix != ".ipynb":
        raise BookError(f"the output must be an .ipynb file, got {output}")
    timeout = CELL_TIMEOUT.get(profile, 900) if timeout is None else timeout
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
    log(f"{chapter.name}: executing ({shown})")
    seconds = execute_chapter(
        chapter, params, output.resolve(), root=root, timeout=timeout, progress=sys.stderr.isatty()
    )
    log(f"{chapter.name}: done in {_format_seconds(seconds)}; wrote {output}")
    return output


def show(fig: Any) -> None:
    """Display a matplotlib figure once in a notebook and release it (no double display)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


# --------------------------------------------------------------------------- chapter helpers
def chapter_grid(name: str, profile: str, **axes: Any) -> Any:
    """The named grid of a profile with the chapter's overrides; ``None`` values (a parameter
    left at "the profile's choice") are ignored, scalars become one-value axes."""
    from qbpaper import grids

    given = {}
    for key, value in axes.items():
        if value is None:
            continue
        if isinstance(value, str) or not isinstance(value, Iterable):
            value = [value]
        given[key] = list(value)
    return grids.get(name, profile=profile, **given)


def note_missing(ds: Any, by: Iterable[str] = ("N",)) -> list[dict[str, Any]]:
    """Say which points of a sweep were found nowhere (a ``--no-compute`` build).

    ``ds`` is a sweep's Dataset as returned (before any ``sel``/``squeeze``). Prints one line
    naming the coordinates along ``by`` (dimensions of ``ds``) that lack a point, neither
    cached nor committed, and returns them as dicts; prints nothing and returns ``[]`` when
    every point is present. Combinations a zipped axis does not list are not points and are
    not counted (the grid is rebuilt from the ``grid_yaml`` attribute)."""
    if not int(ds.attrs.get("n_missing", 0)):
        return []
    import numpy as np

    by = list(by)
    unknown = [d for d in by if d not in ds.dims]
    if unknown:
        raise ValueError(f"note_missing: {unknown} are not dimensions of the sweep {list(ds.dims)}")
    on_grid = _on_grid(ds)
    absent = ds["E_max"].isnull() & on_grid
    if "error" in ds:
        absent &= ds["error"] == ""  # a failed point is reported by the sweep itself
    other = [d for d in absent.dims if d not in by]
    cells = absent.any(other) if other else absent
    rows = np.argwhere(np.asarray(cells.transpose(*by).values))  # one row per absent cell
    where = [{d: _plain(ds[d].values[i]) for d, i in zip(by, row, strict=True)} for row in rows]
    if where:
        named = (
            ", ".join(" ".join(f"{d}={v}" for d, v in w.items()) for w in where)
            if by
            else ("every point" if bool(absent.sum() == on_grid.sum()) else "some points")
        )
        print(
            f"not computed (built with --no-compute; neither cached nor committed): {named}; "
            "these values are missing ('-' or NaN in the tables, blank in the figures). "
            "Build without --no-compute to compute them."
        )
    return where


def _on_grid(ds: Any) -> Any:
    """Boolean DataArray over the sweep's dimensions: True where the grid has a point (False
    at combinations a zipped axis does not list); all True if the grid cannot be rebuilt."""
    import numpy as np
    import xarray as xr
    import yaml

    from qbpaper import grids

    dims = ds["E_max"].dims
    mask = np.ones(ds["E_max"].shape, dtype=bool)
    try:
        grid = grids.parse(yaml.safe_load(ds.attrs["grid_yaml"]))
    except Exception:  # no or foreign grid_yaml: every combination counts as a point
        grid = None
    if grid is not None and tuple(grid.dims) == dims and tuple(grid.shape) == mask.shape:
        mask[:] = False
        for point in grid.points():
            mask[point.index] = True
    return xr.DataArray(mask, dims=dims)


def _plain(value: Any) -> Any:
    """A NumPy scalar as a plain Python number or string (for printing)."""
    return value.item() if hasattr(value, "item") else value


def show_table(
    df: Any,
    table_id: str,
    *,
    columns: Iterable[str] | None = None,
    caption: str | None = None,
    precision: int = 3,
) -> None:
    """Display a DataFrame as an HTML table with a stable ``id`` (the book's tests find
    tables by it)."""
    from IPython.display import HTML, display

    frame = df[list(columns)] if columns is not None else df
    uuid = table_id.replace("-", "_")
    styler = frame.style.format(precision=precision, na_rep="-", escape="html").set_uuid(uuid)
    styler = styler.set_table_attributes('class="qbpaper-table"')
    if caption:
        styler = styler.set_caption(caption)
    html = styler.to_html().replace(f'<table id="T_{uuid}"', f'<table id="{table_id}"', 1)
    display(HTML(html))
