"""report.html in headless Chromium: every section and figure present and visible, no console errors.

The page must be self-contained: any network request is recorded and fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postcart.reporting.html import SECTIONS

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.mark.browser
def test_report_html_renders_every_section_and_figure_in_chromium(report_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    html = report_dir / "report.html"
    figures = sorted(p.stem for p in (report_dir / "figures").glob("*.svg"))
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
            )
            page.goto(html.as_uri(), wait_until="load")
            for sid, title, _tables, _figs in SECTIONS:
                section = page.locator(f"section#{sid}")
                assert section.count() == 1, sid
                section.scroll_into_view_if_needed()
                assert section.is_visible(), sid
                assert section.locator("h2").inner_text().strip() == title
            for name in figures:
                img = page.locator(f"figure[data-figure='{name}'] img")
                assert img.count() == 1, name
                img.scroll_into_view_if_needed()
                box = img.bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100, name
                loaded = img.evaluate("el => el.complete && el.naturalWidth > 0 && el.naturalHeight > 0")
                assert loaded, f"figure {name} did not load"
            for tid in ("table_1", "table_2", "table_3", "response", "survival", "cox_univariate"):
                table = page.locator(f"table[data-table='{tid}']")
                assert table.count() == 1, tid
                assert table.locator("tbody tr").count() > 2, tid
            page.emulate_media(media="print")
            assert page.locator("section#survival").is_visible()
        finally:
            browser.close()
    assert errors == []
    assert requests == []
