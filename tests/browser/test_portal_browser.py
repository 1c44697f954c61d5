"""The expert's portal in headless Chromium (Debian's chromium, driven by Playwright's Python package).

A real `rounds portal` process on 127.0.0.1; the browser opens an expert's
personal link, sees the page's own range check refuse a score above the
maximum, fills every criterion of every application, saves each, submits and
sees the confirmation. The score file the portal wrote is then checked.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.integration.portal_helpers import PortalServer, issue, make_round, mine

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright's Python package: pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_expert_opens_link_fills_forms_and_submits(tmp_path, browser, artifacts):
    root = make_round(tmp_path / "round")
    tokens = issue(root)
    apps = mine(root, "E01")
    with PortalServer(root) as server:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1100, "height": 1300})
        page.goto(f"{server.url}/e/{tokens['E01']}")
        assert page.url == f"{server.url}/expert"
        assert "陈教授专家，您好" in page.inner_text("h2")
        assert page.locator("[id^=app-]").count() == len(apps)

        first = page.locator(f"#app-{apps[0]}")
        field = first.locator('input[name="c.innovation"]')
        field.fill("99")
        first.locator("button[type=submit]").click()
        assert field.evaluate("el => el.validity.rangeOverflow") is True  # the page refuses it before sending
        assert page.url == f"{server.url}/expert"

        for i, sid in enumerate(apps):
            card = page.locator(f"#app-{sid}")
            for name, value in (("innovation", "20"), ("effectiveness", "25.5"), ("replicability", "16"),
                                ("maturity", "12"), ("benefit", str(5 + i % 5))):
                card.locator(f'input[name="c.{name}"]').fill(value)
            with page.expect_navigation():
                card.locator("button[type=submit]").click()
            assert page.locator("#notice").inner_text() == "草稿已保存。"
        assert page.locator(f"#app-{apps[-1]} .status-done").inner_text() == "已填 5/5 项"
        page.screenshot(path=str(artifacts / "expert-filled.png"), full_page=True)

        with page.expect_navigation():
            page.click("#submit-all")
        assert page.url == f"{server.url}/expert/submitted"
        assert page.inner_text("#confirmation") == "评分已提交"
        assert "第 1 版" in page.inner_text("main")
        page.screenshot(path=str(artifacts / "expert-submitted.png"), full_page=True)
        page.goto(f"{server.url}/expert")
        assert "已提交第 1 版" in page.inner_text("#submitted-status")

    written = pd.read_csv(root / "scores" / "portal-E01.csv", dtype=str)
    assert set(written.submission_id) == set(apps) and len(written) == 5 * len(apps)
    assert set(written[written.criterion == "effectiveness"].score) == {"25.5"}
