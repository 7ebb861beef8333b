"""Persistent, content-addressed cache of computed sweep points.

Key: SHA-256 of every Params field, :data:`qbpaper.params.MODEL_VERSION` (bumped when the physics
changes), the solver's name and the entry format. An entry holds the scalar observables, the
solver's warnings and the time series of one point.

Entry file ``ROOT/ab/abcdef....qbc``: 8 magic bytes, the SHA-256 of the body, the body (an
``.npz`` archive: a JSON ``meta`` member and the series arrays, read without pickle). Writes go to
a temporary file in the same folder, are fsync'd and renamed into place (atomic on POSIX and
Windows), so an interrupted run never leaves a partial entry and concurrent writers of one key
simply replace each other's identical result. An entry that fails its checks is reported with a
:class:`CacheCorruptionWarning` naming the file, moved aside to ``*.corrupt`` and treated as
missing.

Temporary files of writes killed midway (``.*.part``) are inert and are removed by the next sweep
once an hour old. Two sweeps of the same grid at once are safe but may both compute a point.

Location: an explicit path (API argument or ``--cache``) > ``$QBPAPER_CACHE`` > ``data/cache/``
in the project checkout > ``~/.cache/qbpaper`` for an installed package.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qbpaper.params import MODEL_VERSION, Params

ENV_VAR = "QBPAPER_CACHE"
CACHE_FORMAT = 1
MAGIC = b"QBPCACH1"
SUFFIX = ".qbc"


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its checks; it is moved aside and the point recomputed."""


class CorruptEntryError(Exception):
    """Raised internally for an entry that fails a check."""


def default_cache_dir() -> Path:
    """``data/cache`` in the project checkout, else the user cache folder."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "qbpaper").is_dir():
        return root / "data" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qbpaper"


def resolve_cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``path`` if given, else ``$QBPAPER_CACHE``, else the default."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR, "")
    return Path(env).expanduser() if env else default_cache_dir()


def cache_key(params: Params, solver: str) -> str:
    """Content address of one point: every parameter, the model version and the solver."""
    payload = {
        "format": CACHE_FORMAT,
        "model_version": MODEL_VERSION,
        "solver": solver,
        "params": params.to_dict(),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Record:
    """The result of one point: observables, warnings, time series (``t`` and the others)."""

    key: str
    params: dict[str, Any]
    observables: dict[str, float]
    warnings: tuple[str, ...] = ()
    series: dict[str, np.ndarray] = field(default_factory=dict)
    solver: str = ""
    method: str = ""  # the integrator path the solve took (Trajectory.method); "": not recorded
    elapsed: float = 0.0  # wall seconds of the solve
    cpu: float = 0.0  # CPU seconds of the solving process

    def meta(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "key": self.key,
            "model_version": MODEL_VERSION,
            "solver": self.solver,
            "method": self.method,
            "params": self.params,
            "observables": self.observables,
            "warnings": list(self.warnings),
            "elapsed": self.elapsed,
            "cpu": self.cpu,
            "series": sorted(self.series),
        }


def encode(record: Record) -> bytes:
    """The bytes of an entry file."""
    buf = io.BytesIO()
    meta = np.frombuffer(json.dumps(record.meta(), sort_keys=True).encode(), dtype=np.uint8)
    arrays = {f"s_{k}": np.ascontiguousarray(v, dtype=np.float64) for k, v in record.series.items()}
    np.savez(buf, meta=meta, **arrays)
    body = buf.getvalue()
    return MAGIC + hashlib.sha256(body).digest() + body


def decode(data: bytes, key: str, params: dict[str, Any] | None = None) -> Record:
    """An entry's record; raises CorruptEntryError (with the reason) on any failed check."""
    head = len(MAGIC) + 32
    if len(data) < head or data[: len(MAGIC)] != MAGIC:
        raise CorruptEntryError("bad header")
    body = data[head:]
    if hashlib.sha256(body).digest() != data[len(MAGIC) : head]:
        raise CorruptEntryError("checksum mismatch")
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode())
            series = {k: np.asarray(npz[f"s_{k}"]) for k in meta["series"]}
        record = Record(
            key=meta["key"],
            params=meta["params"],
            observables={k: float(v) for k, v in meta["observables"].items()},
            warnings=tuple(meta["warnings"]),
            series=series,
            solver=meta["solver"],
            method=str(meta.get("method", "")),  # entries written before it was recorded
            elapsed=float(meta["elapsed"]),
            cpu=float(meta.get("cpu", 0.0)),
        )
    except Exception as exc:  # any unreadable content is corruption
        raise CorruptEntryError(f"unreadable content ({type(exc).__name__}: {exc})") from None
    if record.key != key or meta.get("model_version") != MODEL_VERSION:
        raise CorruptEntryError("entry does not match its key")
    if params is not None and record.params != params:
        raise CorruptEntryError("stored parameters differ from the requested ones")
    return record


class Cache:
    """A cache folder of point records."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_cache_dir(root)

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str, params: dict[str, Any] | None = None) -> Record | None:
        """The record of ``key``; None if absent or corrupt (then warned and moved aside)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._corrupt(path, f"unreadable file ({exc})", params)
        try:
            return decode(data, key, params)
        except CorruptEntryError as exc:
            return self._corrupt(path, str(exc), params)

    def _corrupt(self, path: Path, reason: str, params: dict[str, Any] | None) -> None:
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
            where = f"moved to {aside}"
        except OSError:
            where = "could not be moved aside"
        shown = "" if params is None else f" (point: {_short(params)})"
        warnings.warn(
            f"corrupt cache entry {path}: {reason}; {where}; the point will be recomputed{shown}",
            CacheCorruptionWarning,
            stacklevel=3,
        )
        return None

    def remove_stale_parts(self, older_than: float = 3600.0) -> int:
        """Delete temporary files of writes interrupted more than ``older_than`` s ago."""
        if not self.root.is_dir():
            return 0
        now, removed = time.time(), 0
        for part in self.root.glob("*/.*.part"):
            try:
                if now - part.stat().st_mtime > older_than:
                    part.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    def put(self, record: Record) -> Path:
        """Write ``record`` atomically (temporary file, fsync, rename); returns its path."""
        path = self.path(record.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = encode(record)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{record.key[:16]}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _fsync_dir(path.parent)
        return path


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _short(params: dict[str, Any]) -> str:
    keys = (
        "model",
        "driven",
        "dissipation",
        "n",
        "g",
        "kappa",
        "gamma_relax",
        "gamma_deph",
        "nmax",
    )
    return ", ".join(f"{k}={params[k]}" for k in keys if k in params)
