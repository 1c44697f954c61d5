"""The 公示 page in headless Chromium: Chinese text really renders, and the page prints to A4 PDF.

The render check is proven to fail where CJK fonts are missing (the negative
test points fontconfig at a folder with one Latin font), so a passing check means
glyphs, not boxes. Four Chromium starts here, about 1–2 s each.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from flows import stages
from flows.holidays import builtin_calendar
from flows.publicity import publicity_html
from flows.round_report import report_pdf
from flows.workspace import Workspace
from scoring.workdays import publicity_window
from tests.browser.chromium import (gray, glyph_difference, fontconfig_without_cjk, ink, pdf_fonts, pdf_pages,
                                    screenshot, tofu_variant)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"
SIZE = (900, 1300)
TITLE_BOX = (0, 0, SIZE[0], 170)  # the two-line h1 at 18pt sits in the top 170 px at this width
BODY_BOX = (0, 170, SIZE[0], SIZE[1])


@pytest.fixture(scope="module")
def page_html(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("browser") / "round"
    shutil.copytree(FIXTURE, root)
    p = stages.prepare(Workspace.at(root))
    published = dt.date(2026, 9, 30)
    window = publicity_window(published, 5, builtin_calendar())
    return publicity_html(p.result.ranking, p.programme, p.config, published_on=published, window=window).decode()


def _shots(chromium: str, html: str, folder: Path, tag: str, env: dict[str, str] | None = None):
    real, ref = folder / f"{tag}.html", folder / f"{tag}-tofu.html"
    real.write_text(html, encoding="utf-8")
    ref.write_text(tofu_variant(html), encoding="utf-8")
    a = screenshot(chromium, real, folder / f"{tag}.png", folder / f"profile-{tag}", size=SIZE, env=env)
    b = screenshot(chromium, ref, folder / f"{tag}-tofu.png", folder / f"profile-{tag}-tofu", size=SIZE, env=env)
    return gray(a), gray(b)


def test_chinese_text_renders_as_glyphs_not_boxes(chromium, page_html, artifacts):
    real, tofu = _shots(chromium, page_html, artifacts, "publicity")
    assert ink(real, TITLE_BOX) > 3000, "the title drew almost nothing"
    title = glyph_difference(real, tofu, TITLE_BOX)
    body = glyph_difference(real, tofu, BODY_BOX)
    # measured with fonts-noto-cjk 20220127: title 0.83, body 0.67; without CJK fonts both are 0.0
    assert title > 0.4, f"title glyphs look like the no-glyph boxes (difference {title:.3f}): CJK font missing?"
    assert body > 0.3, f"body glyphs look like the no-glyph boxes (difference {body:.3f})"


def test_the_check_fails_without_cjk_fonts(chromium, page_html, artifacts):
    env = fontconfig_without_cjk(artifacts / "fontconfig")
    real, tofu = _shots(chromium, page_html, artifacts, "no-cjk", env=env)
    assert ink(real, TITLE_BOX) > 0  # something (boxes) was drawn ...
    assert glyph_difference(real, tofu, TITLE_BOX) < 0.05  # ... but it is the same boxes as the no-glyph page


def test_page_prints_to_a4_pdf_with_a_cjk_font(chromium, page_html, artifacts):
    pdf = report_pdf(page_html.encode("utf-8"), binary=chromium)
    assert pdf is not None
    (artifacts / "publicity.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 1 <= pdf_pages(pdf) <= 2  # ten rows and the objection block; the block is never split
    assert b"/MediaBox [0 0 594.95996 841.91998]" in pdf  # A4 in points
    assert any("CJK" in f for f in pdf_fonts(pdf)), pdf_fonts(pdf)
