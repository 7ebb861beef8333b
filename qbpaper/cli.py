"""Command-line entry point ``qbpaper``: subcommands simulate | sweep | export | notebook | book.

Each subcommand lives in its own module exposing ``add_subcommand(subparsers)``; the
subparser it creates sets ``func`` (a callable taking the parsed namespace, returning an exit code).
While it runs, Python warnings (a corrupt cache entry, an unreadable committed file) print as one
line, ``qbpaper COMMAND: warning: MESSAGE``, not as ``file.py:123: Category: MESSAGE``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import sys
import warnings
from collections.abc import Iterator
from typing import Any, NoReturn

#: Modules that each register one or more subcommands.
SUBCOMMAND_MODULES = ("qbpaper.cli_simulate", "qbpaper.cli_sweep", "qbpaper.cli_book")


class OneLineErrorParser(argparse.ArgumentParser):
    """Reports a usage error as one line on stderr and exits with status 2.

    A value such as ``-1e-3`` is read as a negative number, not an unknown option: argparse
    before Python 3.13 recognises only ``-1`` and ``-0.5`` (its private matcher, set here to
    the one Python 3.13 uses; the subcommand parsers are of this class too).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"-\.?\d")

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="qbpaper",
        description="Executable companion to arXiv:2510.26373 (quantum superabsorption).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a subcommand module not written yet
            if exc.name != name:
                raise
            continue
        module.add_subcommand(subparsers)
    return parser


@contextlib.contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """Format warnings as ``PROG: warning: MESSAGE`` (whitespace collapsed) while the block
    runs. Only the text changes: which warnings show, and where they go, are left alone."""

    def format_warning(message: Warning | str, *args: Any, **kwargs: Any) -> str:
        return f"{prog}: warning: {' '.join(str(message).split())}\n"

    previous = warnings.formatwarning
    warnings.formatwarning = format_warning
    try:
        yield
    finally:
        warnings.formatwarning = previous


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    with one_line_warnings(f"{parser.prog} {args.command}"):
        return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
