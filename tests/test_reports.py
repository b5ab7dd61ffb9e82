"""Static checks on the committed reports: self-contained, small, with provenance."""

from __future__ import annotations

import re

import pytest

from newslens import config, stages
from newslens.report import views

REPORTS = sorted(config.REPORTS_DIR.glob("*/*.html"))
OFF_PAGE = re.compile(r"""<(?:script|img|iframe|link|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*["']?(?!data:|#)[a-z]+:""",
                      re.IGNORECASE)


def test_every_stage_has_a_report_for_both_runs():
    names = {config.relative_to_root(p) for p in REPORTS}
    for run in ("news", "seed"):
        for stage in stages.NAMES:
            assert f"reports/{run}/{stage}.html" in names


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: config.relative_to_root(p))
def test_report_is_self_contained_small_and_has_provenance(report):
    html = report.read_text(encoding="utf-8")
    assert report.stat().st_size <= views.MAX_REPORT_BYTES, f"{report.name} is over the 3 MB budget"
    # Scripts: view data (inert JSON) and at most one library, which the CSP allows by hash.
    scripts = re.findall(r"<script\b[^>]*>", html, re.IGNORECASE)
    assert all('type="application/json"' in s or 'data-newslens="library"' in s for s in scripts), scripts
    assert sum('data-newslens="library"' in s for s in scripts) == (1 if views.VIEW_ROOT.search(html) else 0)
    assert '<meta http-equiv="Content-Security-Policy"' in html and "default-src &#x27;none&#x27;" in html
    assert not OFF_PAGE.search(html), "a resource is loaded from off the page"
    assert "@import" not in html
    assert 'class="provenance"' in html and "Code commit" in html and "sha256" in html
    assert "Traceback" not in html
    assert str(config.PROJECT_ROOT) not in html, "no machine paths in reports"
