"""The round report printed to PDF by headless Chromium: A4 pages, CJK font embedded, same bytes twice."""
from __future__ import annotations

import shutil
from pathlib import Path

from flows import stages
from flows.round_report import render_report, report_pdf
from flows.workspace import Workspace
from tests.browser.chromium import pdf_fonts, pdf_pages

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"


def test_report_prints_to_the_same_a4_pdf_twice(chromium, tmp_path, artifacts):
    root = tmp_path / "round"
    shutil.copytree(FIXTURE, root)
    p = stages.prepare(Workspace.at(root))
    html = render_report(p.result, p.programme, p.config, ranking_sha256=p.ranking_hash, experts=p.inputs.experts)
    first = report_pdf(html, binary=chromium)
    second = report_pdf(html, binary=chromium)
    assert first is not None
    (artifacts / "report.pdf").write_bytes(first)
    assert first == second  # print dates pinned: the PDF is as reproducible as the HTML
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")
    assert pdf_pages(first) >= 3  # summary, four charts and the ranking table do not fit on two A4 pages
    assert b"/MediaBox [0 0 594.95996 841.91998]" in first
    assert any("CJK" in f for f in pdf_fonts(first)), pdf_fonts(first)
    assert b"/CreationDate (D:20260101000000" in first
