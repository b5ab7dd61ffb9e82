"""Stage notebooks run end to end through ``python -m newslens.pipeline stage`` (papermill).

Each run happens in a sandbox copy of the project (``NEWSLENS_ROOT``, see conftest.py), so the
real data/processed/, build/ and reports/ are never touched.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow

SEED_TITLE = "Xi–Lukashenko call (10 Jan 2022), sentence by sentence"
BROKEN_PARAMS = {"title": "A run whose source is missing", "sources": [{"path": "data/raw/nope/"}],
                 "unit": "document"}


@pytest.fixture(scope="module")
def seed_ingest(make_sandbox, run_pipeline) -> tuple[Path, subprocess.CompletedProcess]:
    root = make_sandbox("seed-stage")
    done = run_pipeline(root, "stage", "params/seed.yaml", "01-ingest")  # renders the report too
    return root, done


def test_ingest_stage_succeeds_inside_the_sandbox(seed_ingest) -> None:
    root, done = seed_ingest
    assert done.returncode == 0, done.stderr
    assert f"Output Notebook: {root / 'build' / 'seed' / '01-ingest.ipynb'}" in " ".join(done.stderr.split())
    assert (root / "build" / "seed" / "01-ingest.done").read_text() == "01-ingest\n"


def test_ingest_stage_report(seed_ingest) -> None:
    root, _ = seed_ingest
    page = (root / "reports" / "seed" / "01-ingest.html").read_text(encoding="utf-8")
    assert html.escape(SEED_TITLE) in page
    assert "Provenance" in page
    scripts = re.findall(r"<script\b[^>]*>", page, re.IGNORECASE)  # only view data and our library
    assert all('type="application/json"' in t or 'data-newslens="library"' in t for t in scripts), scripts
    assert "Traceback" not in page
    for code in ("load_run(", "ingest.ingest(", "report.show_", "params_file ="):  # no cell input
        assert code not in page, code
    assert str(root) not in page  # no machine paths


def test_ingest_stage_executed_notebook_is_scrubbed(seed_ingest) -> None:
    root, _ = seed_ingest
    notebook = json.loads((root / "build" / "seed" / "01-ingest.ipynb").read_text(encoding="utf-8"))
    assert "papermill" not in notebook["metadata"]
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code_cells and all(cell["execution_count"] is None for cell in code_cells)
    outputs = [output for cell in code_cells for output in cell["outputs"]]
    assert all(output.get("execution_count") is None for output in outputs)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
    assert not [c for c in notebook["cells"] if {"execution", "papermill"} & set(c["metadata"])]


def test_ingest_stage_outputs(seed_ingest) -> None:
    root, _ = seed_ingest
    out = root / "data" / "processed" / "seed"
    documents = pd.read_parquet(out / "documents.parquet")
    assert len(documents) > 10  # the seed article's 19 sentences
    assert documents["doc_id"].is_unique
    log = pd.read_csv(out / "ingest_log.csv")
    assert log["status"].tolist() == ["metadata", "ingested"]
    assert (out / "cleaning.csv").is_file()


def test_failing_stage_exits_non_zero_and_keeps_the_error_notebook(make_sandbox, run_pipeline) -> None:
    root = make_sandbox("broken-stage")
    (root / "params" / "broken.yaml").write_text(yaml.safe_dump(BROKEN_PARAMS), encoding="utf-8")
    done = run_pipeline(root, "stage", "params/broken.yaml", "01-ingest")

    assert done.returncode != 0
    assert "error: stage 01-ingest failed for run broken" in done.stderr
    assert "FileNotFoundError" in done.stderr and "data/raw/nope/" in done.stderr
    executed = root / "build" / "broken" / "01-ingest.ipynb"
    assert str(executed) in done.stderr
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    errors = [output for cell in notebook["cells"] for output in cell.get("outputs", [])
              if output["output_type"] == "error"]
    assert [error["ename"] for error in errors] == ["FileNotFoundError"]
    # A failed stage is not done and publishes nothing.
    assert not (root / "build" / "broken" / "01-ingest.done").exists()
    assert not (root / "reports" / "broken").exists()
    assert not (root / "data" / "processed" / "broken" / "documents.parquet").exists()
