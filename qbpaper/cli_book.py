"""Subcommands ``qbpaper book`` (execute the chapters, build the HTML) and ``qbpaper notebook``
(re-run one chapter with new parameters). Bad input exits 2 with a one-line message; a chapter
that fails to execute exits 1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qbpaper import book
from qbpaper.cli_paths import check_folder, positive_seconds


def _parameter_args(pairs: list[list[str]] | None) -> dict[str, Any]:
    return {key: book.parse_value(value) for key, value in (pairs or [])}


def _error(command: str, message: str) -> int:
    print(f"qbpaper {command}: error: {message.splitlines()[0]}", file=sys.stderr)
    return 2


def _log(message: str) -> None:
    print(message, flush=True)


def _list_chapters(root: Path) -> None:
    for chapter in book.CHAPTERS:
        kind = "notebook" if chapter.notebook else "page"
        print(f"{chapter.number:2d}  {chapter.name:22s} {chapter.source:34s} {kind}")
        for param in book.chapter_parameters(chapter, root).values():
            help_text = f"  # {param.help}" if param.help else ""
            print(f"      {param.name} = {param.source}{help_text}")


def run_book(args: argparse.Namespace) -> int:
    try:
        root = book.find_root()
        if args.list:
            _list_chapters(root)
            return 0
        for option, folder in (("--executed-dir", args.executed_dir),
                               ("--output-dir", args.output_dir)):  # fmt: skip
            if folder is not None:
                check_folder(folder.expanduser(), option)
        result = book.build_book(
            profile=args.profile,
            chapters=args.chapter,
            overrides=_parameter_args(args.parameter),
            root=root,
            executed_dir=args.executed_dir,
            output_dir=args.output_dir,
            html=not args.no_html,
            timeout=args.timeout,
            compute=not args.no_compute,
            log=_log,
        )
    except ValueError as exc:  # a folder that cannot be used
        return _error("book", str(exc))
    except book.BookError as exc:
        if str(exc).startswith("jupyter-book build failed"):
            print(f"qbpaper book: error: {exc}", file=sys.stderr)
            return 1
        return _error("book", str(exc))
    return 0 if not result.failed else 1


def run_notebook(args: argparse.Namespace) -> int:
    try:
        root = book.find_root()
        if args.list:
            chapter = book.get_notebook_chapter(args.chapter)
            for param in book.chapter_parameters(chapter, root).values():
                help_text = f"  # {param.help}" if param.help else ""
                print(f"{param.name} = {param.source}{help_text}")
            return 0
        if args.output is not None:
            check_folder(args.output.expanduser().parent, "--output")
        book.run_notebook(
            args.chapter,
            _parameter_args(args.parameter),
            profile=args.profile,
            output=args.output,
            root=root,
            timeout=args.timeout,
            log=_log,
        )
    except (book.BookError, ValueError) as exc:  # ValueError: a folder that cannot be used
        return _error("notebook", str(exc))
    except Exception as exc:  # the notebook raised: papermill wrote it with the traceback
        ename = getattr(exc, "ename", type(exc).__name__)
        evalue = getattr(exc, "evalue", str(exc))
        print(
            f"qbpaper notebook: execution failed: {ename}: {evalue}".splitlines()[0],
            file=sys.stderr,
        )
        return 1
    return 0


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    chapters = ", ".join(c.name for c in book.CHAPTERS)
    rerunnable = ", ".join(c.name for c in book.notebook_chapters())  # not the plain pages
    p_book = subparsers.add_parser(
        "book",
        help="execute the chapters with a profile and build the HTML book",
        description=(
            "Convert each chapter (MyST Markdown) with jupytext, execute it with papermill "
            "using the profile's parameters, then build the HTML with Jupyter Book "
            f"(-W --keep-going) into _build/html. Chapters: {chapters}."
        ),
    )
    p_book.add_argument(
        "--profile",
        choices=book.PROFILES,
        default="quick",
        help="parameter profile: quick (CI, teaching) or paper (full grids); default quick",
    )
    p_book.add_argument(
        "--chapter",
        action="append",
        metavar="NAME",
        help="execute only this chapter (repeatable; name, number or file "
        "stem); the others keep their last executed notebook",
    )
    p_book.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("KEY", "VALUE"),
        help="set a parameter in every chapter that has it (YAML value)",
    )
    p_book.add_argument("--no-html", action="store_true", help="execute only, build no HTML")
    p_book.add_argument(
        "--no-compute",
        action="store_true",
        help="compute no new points: use the cache and the committed data (data/paper/); "
        "points found nowhere are missing (NaN) in tables and figures",
    )
    p_book.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        help="per-cell timeout in seconds (default: 900 quick, a week paper)",
    )
    p_book.add_argument(
        "--executed-dir",
        type=Path,
        default=None,
        help="where executed notebooks go (default: book/_executed)",
    )
    p_book.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="build root; the HTML lands in OUTPUT_DIR/_build/html (default: the repository root)",
    )
    p_book.add_argument(
        "--list", action="store_true", help="list the chapters and their parameters, then exit"
    )
    p_book.set_defaults(func=run_book)

    p_nb = subparsers.add_parser(
        "notebook",
        help="re-run one chapter with new parameters",
        description=(
            "Execute one chapter with papermill, with the profile's parameters and the -p "
            "overrides. An unknown parameter name is an error that lists the valid names. "
            f"Chapters: {rerunnable}."
        ),
    )
    p_nb.add_argument("chapter", metavar="CHAPTER", help="chapter name, number or file stem")
    p_nb.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("KEY", "VALUE"),
        help="parameter override (YAML value: 5, 0.1, true, [5, 10], None)",
    )
    p_nb.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="OUT.ipynb",
        help="executed notebook (default: book/_executed/reruns/<file stem>.ipynb, e.g. "
        "06_scaling.ipynb)",
    )
    p_nb.add_argument(
        "--profile",
        choices=book.PROFILES,
        default="quick",
        help="base profile the overrides apply to (default quick)",
    )
    p_nb.add_argument(
        "--timeout", type=positive_seconds, default=None, help="per-cell timeout in seconds"
    )
    p_nb.add_argument(
        "--list",
        action="store_true",
        help="list the chapter's parameters with their defaults, then exit",
    )
    p_nb.set_defaults(func=run_notebook)
