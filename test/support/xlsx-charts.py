"""Reads a workbook's charts back with openpyxl and checks its package; prints one JSON object.

Usage: python3 test/support/xlsx-charts.py WORKBOOK.xlsx SHEET

  charts    what openpyxl sees on SHEET: class, bar direction, grouping, title, anchor and, per
            series, the formulas of its name, categories and values with the cells they point at
  error     why openpyxl could not load the workbook, or null
  warnings  every warning openpyxl raised while loading (a drawing it cannot read warns)
  package   problems with the zip itself: a part without a content type (an .xml part needs an
            override: the default is plain application/xml), an override naming a missing
            part, a relationship whose target is not in the package
  types     content type of every part, as [Content_Types].xml declares it
"""

import json
import posixpath
import sys
import warnings
import zipfile
import xml.etree.ElementTree as ET

import openpyxl
from openpyxl.utils.cell import range_to_tuple

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def check_package(path):
    problems, types = [], {}
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad:
            problems.append(f"bad CRC: {bad}")
        parts = {n for n in z.namelist() if not n.endswith("/")}
        root = ET.fromstring(z.read("[Content_Types].xml"))
        defaults = {d.get("Extension").lower(): d.get("ContentType") for d in root.iter(CT_NS + "Default")}
        overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in root.iter(CT_NS + "Override")}
        for name in sorted(overrides):
            if name not in parts:
                problems.append(f"override for a missing part: /{name}")
        for name in sorted(parts):
            if name == "[Content_Types].xml":
                continue
            ext = name.rsplit(".", 1)[-1].lower()
            ct = overrides.get(name) or defaults.get(ext)
            if ct is None:
                problems.append(f"no content type: {name}")
            elif name not in overrides and ext == "xml":
                # Default xml is plain application/xml: Excel ignores such a chart or drawing.
                problems.append(f"no content type of its own: {name}")
            types[name] = ct
            if not name.endswith(".rels"):
                continue
            # xl/drawings/_rels/drawing1.xml.rels describes xl/drawings/drawing1.xml
            base = posixpath.dirname(posixpath.dirname(name))
            for rel in ET.fromstring(z.read(name)).iter(REL_NS + "Relationship"):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target")
                resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
                if resolved not in parts:
                    problems.append(f"{name} {rel.get('Id')}: target {target} is not in the package")
    return problems, types


def cells(wb, formula):
    sheet, (min_col, min_row, max_col, max_row) = range_to_tuple(formula)
    ws = wb[sheet.strip("'").replace("''", "'")]
    return [c.value for row in ws.iter_rows(min_row, max_row, min_col, max_col) for c in row]


def ref_of(data):
    ref = data.numRef or data.strRef
    return ref.f if ref is not None else None


def title_of(chart):
    if chart.title is None or chart.title.tx is None or chart.title.tx.rich is None:
        return None
    return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))


def main():
    path, sheet = sys.argv[1], sys.argv[2]
    problems, types = check_package(path)
    charts, error = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wb = openpyxl.load_workbook(path)
        except Exception as e:  # a broken package: report it beside the package problems
            wb, error = None, f"{type(e).__name__}: {e}"
    for chart in wb[sheet]._charts if wb else []:
        series = []
        for s in chart.series:
            refs = {"name": s.tx.strRef.f, "categories": ref_of(s.cat), "values": ref_of(s.val)}
            series.append({**refs, "cells": {k: cells(wb, f) for k, f in refs.items()}})
        frm = chart.anchor._from
        charts.append({
            "class": type(chart).__name__,
            "barDir": getattr(chart, "type", None),
            "grouping": getattr(chart, "grouping", None),
            "title": title_of(chart),
            "from": {"col": frm.col, "row": frm.row},
            "series": series,
        })
    print(json.dumps({
        "error": error,
        "charts": charts,
        "warnings": [str(w.message) for w in caught],
        "package": problems,
        "types": types,
    }, default=str))


main()
