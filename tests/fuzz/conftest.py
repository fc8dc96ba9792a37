"""The fuzzing suite's figures: printed at the end of the run and written to tests/fuzz/last-run.json."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.fuzz.support import FIGURES

LAST_RUN = Path(__file__).parent / "last-run.json"


@pytest.fixture(autouse=True, scope="module")
def _index_segments_named_at_random():
    """Hypothesis seeds Python's `random` alike before every example (a run can be replayed), and Whoosh names each
    new segment of an index from it: a later example's segment took an earlier one's name, its commit failed on the
    files already there, and the index's write lock was never released, so every later write to that index waited
    its 5 s timeout and gave up (15 s of the forms' run, and a stale directory index). Whoosh draws its names from
    the system's generator here, as from an unseeded one in production; the examples stay as replayable as before."""
    import whoosh.util

    seeded = whoosh.util.random
    whoosh.util.random = random.SystemRandom()
    yield
    whoosh.util.random = seeded


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = FIGURES.as_dict()
    if not figures["inputs"] and not figures["bursts"]:
        return
    LAST_RUN.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write = terminalreporter.write_line
    terminalreporter.section(f"fuzzing figures (profile {figures['profile']})")
    for kind, names in figures["inputs"].items():
        write(f"{kind}: {figures['totals'][kind]} inputs")
        for name, count in names.items():
            write(f"    {count:6d}  {name}")
    write(f"bursts: {sum(figures['bursts'].values())} "
          f"({', '.join(f'{name} x{count}' for name, count in sorted(figures['bursts'].items()))})")
    write(f"5xx found: {figures['server_errors_found']}")
    for error in figures["server_errors"]:
        write(f"    {error['status']} {error['where']} {error['input'][:200]}")
    write(f"races found: {figures['races_found']}")
    for race in figures["races"]:
        write(f"    {race['where']}: {race['detail'][:200]}")
    write(f"(written to {LAST_RUN.relative_to(Path.cwd()) if LAST_RUN.is_relative_to(Path.cwd()) else LAST_RUN})")
