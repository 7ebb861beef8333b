"""Checks on folders named on the command line, made before any work starts: a bad path is
a one-line error (exit 2), not a traceback after minutes of computing. Nothing is created."""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["check_folder", "positive_seconds"]


def _existing_ancestor(path: Path) -> Path:
    """``path`` itself if it exists, else its nearest existing parent."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def check_folder(path: Path, option: str) -> None:
    """Raise ``ValueError`` when ``path`` cannot be (or become) a writable folder: it is a file,
    or its nearest existing parent is a file or not writable."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option}: cannot create the folder {str(path)!r}: it is a file")
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise ValueError(
            f"{option}: cannot create the folder {str(path)!r}: {str(base)!r} is a file"
        )
    if not os.access(base, os.W_OK):
        raise ValueError(f"{option}: the folder {str(base)!r} is not writable")


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0 (rejects nan, inf, 0, negatives)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text!r}")
    return value
