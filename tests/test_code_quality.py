"""The house is kept tidy: ruff (with bugbear and bandit rules) finds nothing; no weak randomness in auth code."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_random_or_pickle_in_application_code():
    offenders = []
    for path in list((ROOT / "network").rglob("*.py")) + [ROOT / "app.py"]:
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(import random|from random import|import pickle|from pickle import)", text, re.M):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_vocabulary_copy_matches_the_shared_reference():
    shared = ROOT.parent / "shared" / "reference" / "vocabulary.yaml"
    if not shared.exists():
        pytest.skip("../shared is not beside the repository")
    assert (ROOT / "network" / "reference" / "vocabulary.yaml").read_bytes() == shared.read_bytes()
