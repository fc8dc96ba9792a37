"""Writing cases in the interchange format, as JSON Lines or CSV: one writer for the command and the pages."""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import TextIO

from catalogue.cases.models import INTERCHANGE_FIELDS, LIST_FIELDS, Case
from catalogue.cases.services import case_to_dict

# What a spreadsheet skips before reading a formula: white space (the no-break space included) and the invisible
# characters; full-width signs (＝＋－＠) are formulas too once normalised (NFKC).
_LEADING_BLANKS = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]*")
FORMULA_SIGNS = ("=", "+", "-", "@")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula (or a field separator trick)."""
    if text[:1] in ("\t", "\r", "\n"):
        return True
    rest = _LEADING_BLANKS.sub("", text)
    return unicodedata.normalize("NFKC", rest[:1])[:1] in FORMULA_SIGNS


def csv_cell(value: object) -> str:
    """Lists joined by "; ", translations as JSON; a cell a spreadsheet would run as a formula is kept as text."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    text = str(value)
    return "'" + text if is_formula(text) else text


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
