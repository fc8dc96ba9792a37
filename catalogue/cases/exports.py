"""Writing cases in the interchange format, as JSON Lines or CSV: one writer for the command and the pages."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from catalogue.cases.models import INTERCHANGE_FIELDS, LIST_FIELDS, Case
from catalogue.cases.services import case_to_dict


def csv_cell(value: object) -> str:
    """Lists joined by "; ", translations as JSON; a cell a spreadsheet would run as a formula is kept as text."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_jsonl(cases: Iterable[Case], out: TextIO) -> int:
    count = 0
    for case in cases:
        out.write(json.dumps(case_to_dict(case), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(cases: Iterable[Case], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INTERCHANGE_FIELDS)
    count = 0
    for case in cases:
        data = case_to_dict(case)
        writer.writerow([csv_cell(data.get(field, [] if field in LIST_FIELDS else "")) for field in INTERCHANGE_FIELDS])
        count += 1
    return count
