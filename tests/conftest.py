"""Shared pytest set-up: headless plotting, quiet numerical warnings are still recorded."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
