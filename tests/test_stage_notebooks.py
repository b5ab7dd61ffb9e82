"""Stage notebooks run end to end through ``python -m newslens stage`` (papermill).

Each run happens in a sandbox copy of the project (``NEWSLENS_ROOT``, see conftest.py), so the
real data/processed/, build/ and reports/ are never touched.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
import time
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
    executed = (root / "build" / "seed" / "01-ingest.ipynb").read_bytes()
    assert (root / "build" / "seed" / "01-ingest.done").read_text() == \
        f"01-ingest\nexecuted {hashlib.sha256(executed).hexdigest()}\n"


def test_a_notebook_edited_while_its_stage_runs_leaves_the_stage_stale(make_sandbox):
    """make compares a stage's marker with its prerequisites: an edit saved mid-run must look newer."""
    root = make_sandbox("edited-mid-run")
    notebook, executed = root / "notebooks" / "01-ingest.ipynb", root / "build" / "seed" / "01-ingest.ipynb"
    env = {**os.environ, "NEWSLENS_ROOT": str(root), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    stage = subprocess.Popen([sys.executable, "-m", "newslens", "stage", "params/seed.yaml", "01-ingest"],
                             cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not executed.exists() and stage.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # papermill writes the executed copy as the notebook starts
    assert stage.poll() is None, "the stage ended before the edit could be made"
    notebook.write_text(notebook.read_text(encoding="utf-8"), encoding="utf-8")  # an editor's save
    _, stderr = stage.communicate(timeout=600)
    assert stage.returncode == 0, stderr[-3000:]
    done = root / "build" / "seed" / "01-ingest.done"
    assert done.stat().st_mtime_ns < notebook.stat().st_mtime_ns, \
        "the stage's marker is newer than a notebook saved while the stage ran: make would not rerun it"
    # ...and the finished execution still renders: the marker records the notebook it executed.
    rendered = subprocess.run([sys.executable, "-m", "newslens", "render", "params/seed.yaml", "01-ingest"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert rendered.returncode == 0, rendered.stderr[-3000:]


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
