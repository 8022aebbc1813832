"""An attacker who has only the public pack's PDF, as text (pdftotext), and integer programming.

It imports nothing from sefton_qa: it reads the headline table and the table by service area
as printed, writes down what any reader knows (each row adds up to its total, each column to the
"All audits" row, that row is the headline's "this period", counts are whole and never
negative), and for every "c" finds the smallest and largest value it could take, with HiGHS
called directly. Used by tests/test_disclosure_audit.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

GRADE_ROWS = ("Good", "Requires improvement to be good", "Inadequate", "All audits")
COUNT = r"(c|\d[\d,]*)"


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _section(text: str, start: str, end: str) -> str:
    """From the heading ``start`` to ``end`` (the last ``start``: the first is the contents)."""
    at = text.rindex(start)
    return text[at:text.index(end, at)]


def _value(token: str):
    return None if token == "c" else int(token.replace(",", ""))


def read_pack(text: str) -> dict:
    """The printed figures: {"headline": {grade: (this period, previous)}, "areas": {area:
    (good, requires improvement, inadequate, audits)}}; None where "c" is printed."""
    headline_text = _section(text, "2. Headline figures", "3. Trend")
    # "Requires improvement to\n ... counts ...\n be good": the label wraps around its counts
    flat = re.sub(r"Requires improvement to\s+(.*?)\s+be good\s", r"Requires improvement to "
                  r"be good \1 ", headline_text, flags=re.S)
    headline = {}
    for grade in GRADE_ROWS:
        if grade == "All audits":
            m = re.search(r"All audits\s+" + COUNT + r"\s+100%\s+" + COUNT, flat)
            headline[grade] = (_value(m.group(1)), _value(m.group(2)))
            continue
        m = re.search(re.escape(grade) + r"\s+" + COUNT + r"\s+(?:c|[\d.]+%)\s+"
                      r"(?:c|[\d.]+–[\d.]+%)\s+" + COUNT, flat)
        headline[grade] = (_value(m.group(1)), _value(m.group(2)))
    areas_text = _section(text, "By service area", "By team")
    areas = {}
    for line in areas_text.splitlines():
        m = re.match(r"\s*(\S.*?)\s{2,}" + r"\s+".join([COUNT] * 4) + r"\s", line + " ")
        if m and m.group(1) not in ("Service area",):
            areas[m.group(1)] = tuple(_value(m.group(i)) for i in range(2, 6))
    return {"headline": headline, "areas": areas}


def ranges(pack: dict) -> dict:
    """For every "c" in the two tables: (lowest, highest) it could be (highest None: any)."""
    import highspy
    import numpy as np

    cells: dict = {}  # name → value or None
    eqs: list[list[tuple[str, int]]] = []
    h = pack["headline"]
    grades = GRADE_ROWS[:3]
    for g in GRADE_ROWS:
        cells[("now", g)], cells[("before", g)] = h[g]
    for when in ("now", "before"):
        eqs.append([((when, g), 1) for g in grades] + [((when, "All audits"), -1)])
    areas = pack["areas"]
    for area, values in areas.items():
        for i, name in enumerate((*grades, "Audits")):
            cells[(area, name)] = values[i]
        if area != "All audits":
            eqs.append([((area, g), 1) for g in grades] + [((area, "Audits"), -1)])
    if "All audits" in areas:
        for i, name in enumerate((*grades, "Audits")):
            total = ("All audits", name)
            eqs.append([((a, name), 1) for a in areas if a != "All audits"] + [(total, -1)])
            eqs.append([(total, 1), (("now", GRADE_ROWS[i]), -1)])
    unknown = [k for k, v in cells.items() if v is None]
    index = {k: i for i, k in enumerate(unknown)}
    out = {}
    for k in unknown:
        model = highspy.Highs()
        model.setOptionValue("output_flag", False)
        n = len(unknown)
        model.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
        model.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                    np.array([highspy.HighsVarType.kInteger] * n))
        for eq in eqs:
            known = -sum(c * cells[key] for key, c in eq if cells[key] is not None)
            row = [(index[key], c) for key, c in eq if cells[key] is None]
            if row:
                model.addRow(known, known, len(row), np.array([i for i, _ in row], np.int32),
                             np.array([float(c) for _, c in row]))
        found = []
        model.changeColCost(index[k], 1.0)
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            model.changeObjectiveSense(sense)
            model.run()
            ok = model.getModelStatus() == highspy.HighsModelStatus.kOptimal
            found.append(round(model.getInfo().objective_function_value) if ok else None)
        out[k] = (found[0] if found[0] is not None else 0, found[1])
    return out
