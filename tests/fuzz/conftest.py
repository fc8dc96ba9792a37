"""The fuzzing suite's figures: printed at the end of the run and written to tests/fuzz/last-run.json."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fuzz.support import FIGURES

LAST_RUN = Path(__file__).parent / "last-run.json"


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
