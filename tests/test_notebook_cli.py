"""The book's command line and chapter sources, without building the book.

Fast checks: the chapter registry matches ``_toc.yml`` and ``book/``; every chapter opens with a
parseable ``parameters`` cell and ends with exercises; ``qbpaper notebook`` / ``qbpaper book``
reject bad input with exit status 2 and a one-line message before running anything; one real
(tiny) re-run of the model chapter, with ``MPLBACKEND=Agg`` in the environment as in CI, keeps
its figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from qbpaper import book
from qbpaper.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qbpaper.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


# ----------------------------------------------------------------- sources and registry
def test_toc_lists_every_chapter_and_the_status_page():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert files == [f"book/{c.stem}" for c in book.CHAPTERS] + ["book/status"]
    for entry in files:
        assert (ROOT / f"{entry}.md").is_file(), entry


def test_no_notebook_sits_beside_a_chapter_source():
    # a .md and an .ipynb of one chapter side by side make Sphinx fail with -W
    assert not list((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("chapter", book.notebook_chapters(), ids=lambda c: c.name)
def test_chapter_opens_with_parameters_and_ends_with_exercises(chapter):
    nb = book.read_chapter(chapter, ROOT)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert code and book.parameters_cell_index(nb) == code[0], "first code cell: parameters"
    params = book.chapter_parameters(chapter, ROOT)
    assert {"profile", "workers", "cache"} <= set(params)
    assert params["profile"].default == "quick"
    assert all(p.help for p in params.values()), "every parameter has a comment"
    # papermill's own parser gives up on a line with two '=' (then warns on every run)
    source = nb.cells[code[0]].source
    assert all(line.count("=") <= 1 for line in source.splitlines())
    text = (ROOT / chapter.source).read_text(encoding="utf8")
    assert "## Exercises" in text and ":class: dropdown" in text


def test_profiles_only_set_parameters_the_chapters_have():
    for chapter in book.notebook_chapters():
        valid = book.chapter_parameters(chapter, ROOT)
        for profile in book.PROFILES:
            assert set(book.profile_parameters(chapter, profile)) <= set(valid)


def test_get_chapter_by_name_number_and_stem():
    assert book.get_chapter("scaling").stem == "06_scaling"
    assert book.get_chapter("6").name == "scaling"
    assert book.get_chapter("06_scaling").name == "scaling"
    with pytest.raises(book.BookError, match="valid chapters: introduction"):
        book.get_chapter("nope")


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), ("0.3", 0.3), ("1e-3", 1e-3), ("true", True), ("None", None),
     ("[5, 10]", [5, 10]), ("local", "local"), ("driven", "driven")],
)  # fmt: skip
def test_parse_value(text, value):
    assert book.parse_value(text) == value


def test_status_table_lists_every_notebook_chapter():
    table = book.status_table(
        {"scaling": {"ok": True, "seconds": 75.0, "profile": "quick", "finished": "x"}}
    )
    assert "1 min 15 s" in table and "not executed" in table
    for chapter in book.notebook_chapters():
        assert f"<{chapter.stem}>" in table


# ----------------------------------------------------------------- bad input: exit 2
def test_notebook_unknown_parameter_is_an_error_listing_valid_names(capsys):
    code = main(["notebook", "model", "-p", "size", "3"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "unknown parameter 'size'" in err
    assert "valid names: profile, n, g," in err


def test_notebook_unknown_chapter_is_an_error(capsys):
    assert main(["notebook", "chapter99"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "valid chapters:" in err


def test_notebook_plain_page_has_no_parameters(capsys):
    assert main(["notebook", "references"]) == 2
    assert "plain page" in capsys.readouterr().err
    assert main(["notebook", "references", "--list"]) == 2  # not an empty list and status 0
    assert "plain page" in capsys.readouterr().err


def test_book_unknown_parameter_and_chapter_are_errors(capsys):
    assert main(["book", "--no-html", "-p", "nonsense", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown parameter 'nonsense'" in err and "workers" in err
    assert main(["book", "--no-html", "--chapter", "nope"]) == 2


def test_bad_profile_exits_2():
    proc = run_cli("book", "--profile", "huge")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_list_commands(capsys):
    assert main(["notebook", "scaling", "--list"]) == 0
    out = capsys.readouterr().out
    assert "sizes = None" in out and "# qubit numbers N" in out
    assert main(["book", "--list"]) == 0
    out = capsys.readouterr().out
    assert "06_scaling" in out and "11_references" in out


# ----------------------------------------------------------------- one real re-run
def test_notebook_rerun_injects_parameters_and_keeps_figures(tmp_path):
    out = tmp_path / "model.ipynb"
    proc = run_cli(
        "notebook", "model", "-p", "n", "1", "-p", "t_final", "2.0", "-p", "nmax", "3",
        "-o", str(out),
        env={"MPLBACKEND": "Agg"},  # as CI sets it: figures must not vanish
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "model: done in" in proc.stdout
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "n = 1" in injected[0].source and "t_final = 2.0" in injected[0].source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "figures vanished from the executed notebook"
    assert nb.metadata["qbpaper"]["parameters"]["n"] == 1
    json.dumps(nb.metadata["qbpaper"])  # serialisable record


def test_failing_notebook_exits_1(tmp_path):
    out = tmp_path / "model.ipynb"
    proc = run_cli("notebook", "model", "-p", "n", "0", "-o", str(out))
    assert proc.returncode == 1
    assert "execution failed" in proc.stderr and "invalid parameter 'n'" in proc.stderr
    assert out.is_file()  # papermill keeps the notebook with the traceback


@pytest.mark.parametrize("command", ["book", "notebook"])
@pytest.mark.parametrize("value", ["nan", "inf", "0", "-5", "soon"])
def test_bad_timeout_exits_2_before_running(command, value):
    args = ["--no-html", "--chapter", "model"] if command == "book" else ["model"]
    proc = run_cli(command, *args, "--timeout", value)
    assert proc.returncode == 2 and "--timeout" in proc.stderr, proc.stderr
    assert "executing" not in proc.stdout


def test_output_folders_that_are_files_exit_2_before_running(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    assert main(["notebook", "model", "-o", str(blocker / "x.ipynb")]) == 2
    assert main(["book", "--no-html", "--chapter", "model", "--executed-dir", str(blocker)]) == 2
    out, err = capsys.readouterr()
    assert "executing" not in out
    assert [line.count("cannot create the folder") for line in err.splitlines()] == [1, 1]
