"""The row filter of a table source (``exclude:``): the contract, what ingest logs, raw data untouched."""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, strategies as st

from newslens import config
from newslens.corpus import ingest
from newslens.corpus.tables import ROW_FILTER, matches
from newslens.params import ParamsError, validate_params

TURNS = [  # (speaker, chair, text): a debate as ParlSpeech writes it, the chair's turns marked TRUE
    ("Präsidentin", "TRUE", "Nächster Redner ist der Kollege Weiß für die Fraktion der CDU/CSU."),
    ("Weiß", "FALSE", "Frau Präsidentin! Meine Damen und Herren! Die Renten müssen sicher bleiben."),
    ("Präsidentin", "TRUE", "Gestatten Sie eine Zwischenfrage des Kollegen Schulz?"),
    ("Weiß", "FALSE", "Ja, bitte. Die Rentenkasse braucht einen festen Zuschuss aus dem Haushalt."),
    ("Schulz", "FALSE", "Herr Kollege, wie hoch soll der Zuschuss für die Rentenkasse denn sein?"),
    ("Präsidentin", "TRUE", "Das Wort hat jetzt die Kollegin Roth für die SPD-Fraktion."),
    ("Roth", "NA", "Die Pflege der Alten verdient mehr Geld und mehr Zeit der Pflegekräfte."),
]


def _debate(tmp_path, suffix: str = ".csv"):
    table = pd.DataFrame(TURNS, columns=["speaker", "chair", "text"])
    path = tmp_path / f"debate{suffix}"
    if suffix == ".parquet":  # a real boolean column, and a missing value
        table["chair"] = pd.array([{"TRUE": True, "FALSE": False}.get(v) for v in table["chair"]], dtype="boolean")
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)
    elif suffix == ".jsonl":
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        table.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    return path


def _run(path, exclude) -> dict:
    return {"title": "T", "language": "de",
            "sources": [{"path": str(path), "text_column": "text", "group_column": "speaker", "exclude": exclude}]}


# ---------------------------------------------------------------- the contract

@pytest.mark.parametrize("exclude, expected", [
    ({"chair": True}, {"chair": (True,)}),
    ({"chair": "TRUE"}, {"chair": ("TRUE",)}),
    ({"chair": [True, "NA"], "speaker": ["Roth", 3]}, {"chair": (True, "NA"), "speaker": ("Roth", 3)}),
])
def test_exclude_maps_each_column_to_the_values_left_out(tmp_path, exclude, expected):
    assert validate_params(_run(_debate(tmp_path), exclude)).sources[0].exclude == expected


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_an_unknown_column_is_named_with_the_table_s_columns(tmp_path, suffix):
    with pytest.raises(ParamsError, match=r"exclude names column 'chairman', which table '.*debate\.\w+' "
                                          r"does not have \(its columns: speaker, chair, text\)"):
        validate_params(_run(_debate(tmp_path, suffix), {"chairman": True}))


def test_a_builtin_s_columns_are_checked_before_it_is_fetched():
    raw = {"title": "T", "sources": [{"builtin": "bundestag", "exclude": {"Chair": True}}]}
    with pytest.raises(ParamsError, match=r"column 'Chair', which table builtin bundestag does not have "
                                          r"\(its columns: date, agenda, .*chair, terms, text"):
        validate_params(raw)


@pytest.mark.parametrize("source, message", [
    ({"path": "data/raw/seed/", "exclude": {"chair": True}}, r"exclude \(a row filter\) applies to tables \(\.csv, \.tsv, \.jsonl, \.parquet\); 'data/raw/seed/'"),
    ({"path": "t.csv", "text_column": "text", "exclude": {}}, "name at least one column"),
    ({"path": "t.csv", "text_column": "text", "exclude": {"chair": []}}, "at least 1 item"),
    ({"path": "t.csv", "text_column": "text", "exclude": {"chair": None}}, "sources.0.exclude.chair"),
    ({"path": "t.csv", "text_column": "text", "exclude": ["chair"]}, "sources.0.exclude"),
])
def test_bad_filters_are_refused_with_the_key(source, message):
    with pytest.raises(ParamsError, match=message):
        validate_params({"title": "T", "sources": [source]})


def test_the_shipped_parliament_runs_leave_the_chair_out():
    from newslens.params import load_run

    for name in ("bundestag", "commons", "congreso"):
        assert load_run(f"params/{name}.yaml").params.sources[0].exclude == {"chair": (True,)}


# ---------------------------------------------------------------- matching a cell

@pytest.mark.parametrize("held, value, expected", [
    ("TRUE", True, True), ("True", True, True), ("true", True, True), (" TRUE ", True, True),
    ("FALSE", True, False), ("FALSE", False, True), ("1", True, False),
    ("3", 3, True), ("3.0", 3, True), ("1,024", 1024, True), ("3.5", 3, False), ("three", 3, False),
    ("Con", "Con", True), ("Con", "con", False), ("Con ", "Con", True), ("TRUE", "true", False),
])
def test_a_value_matches_as_the_table_holds_it(held, value, expected):
    assert matches(held, value) is expected


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_a_string_matches_only_its_own_text(text):
    assert matches(text, text.strip())
    assert not matches(text + "x", text.strip())


# ---------------------------------------------------------------- ingest

def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_ingest_logs_every_row_left_out_and_leaves_the_raw_table_as_it_was(tmp_path, suffix):
    path = _debate(tmp_path, suffix)
    before = _sha256(path)
    result = ingest.ingest(validate_params(_run(path, {"chair": True})))
    log = result.log.set_index("location")
    held = "True" if suffix == ".parquet" else "TRUE"  # pyarrow's boolean, or the text of the cell
    left_out = log[log["reason"].fillna("").str.startswith(ROW_FILTER)]
    assert [loc.rsplit(":", 1)[1] for loc in left_out.index] == ["1", "3", "6"]
    assert set(left_out["status"]) == {"skipped"}
    assert set(left_out["reason"]) == {f"left out by the row filter: chair = {held}"}
    assert sorted(result.documents["group"]) == ["Roth", "Schulz", "Weiß", "Weiß"]  # the NA row stays
    summary = ingest.log_summary(result.log)
    assert summary.loc[summary["reason"] == f"left out by the row filter: chair = {held}", "entries"].tolist() == [3]
    assert result.notes == [f"the row filter of source {str(path)!r} left out 3 rows (chair = {held}); "
                            "each is in the ingest log"]
    assert _sha256(path) == before


def test_two_columns_and_several_values_each_leave_their_rows_out(tmp_path):
    result = ingest.ingest(validate_params(_run(_debate(tmp_path), {"chair": ["TRUE", "NA"], "speaker": "Schulz"})))
    reasons = result.log["reason"].fillna("")
    reasons = reasons[reasons.str.startswith(ROW_FILTER)].value_counts().to_dict()
    assert reasons == {"left out by the row filter: chair = TRUE": 3, "left out by the row filter: chair = NA": 1,
                       "left out by the row filter: speaker = Schulz": 1}
    assert sorted(result.documents["group"]) == ["Weiß", "Weiß"]


BUNDESTAG_CSV = config.RAW_DIR / "bundestag" / "de.csv"


@pytest.mark.skipif(not BUNDESTAG_CSV.is_file(), reason="bundestag not fetched (make data CORPUS=bundestag)")
def test_the_bundestag_run_leaves_the_chair_s_420_turns_out():
    from newslens.params import load_run

    before = _sha256(BUNDESTAG_CSV)
    raw = pd.read_csv(BUNDESTAG_CSV, dtype=str, keep_default_na=False)
    result = ingest.ingest(load_run("params/bundestag.yaml").params)
    reasons = result.log["reason"].value_counts().to_dict()
    assert reasons["left out by the row filter: chair = TRUE"] == (raw["chair"] == "TRUE").sum() == 420
    assert len(result.log) == len(raw) == 1000
    assert _sha256(BUNDESTAG_CSV) == before
