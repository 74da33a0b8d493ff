"""The README says what the benchmarks measured, and what a new user needs to know first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_figures_are_the_benchmarks_figures():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "readme_figures.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_readme_opens_with_the_two_commands_and_the_offline_languages():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make run" in first_screen and "make test" in first_screen
    assert "ca, eo, es, fr, gl, it, pt" in first_screen  # what translates offline, before anyone tries
