"""Reading a few documents' texts from documents.parquet without holding the corpus's."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from newslens.files import ParquetParts, read_parquet, texts_of, with_texts


def _documents(tmp_path, partitioned: bool):
    frame = pd.DataFrame({"doc_id": [f"d{i}" for i in range(7)], "group": list("aabbccd"),
                          "text": [f"text of d{i}" for i in range(7)]})
    schema = pa.schema([("doc_id", pa.string()), ("group", pa.string()), ("text", pa.string())])
    path = tmp_path / ("folder.parquet" if partitioned else "file.parquet")
    with ParquetParts(path, schema, partitioned=partitioned) as parts:
        for start in range(0, 7, 3):  # three row groups (or part files)
            parts.write(frame.iloc[start:start + 3])
    return frame, path


def test_the_texts_of_chosen_documents_from_a_file_or_a_folder(tmp_path):
    for partitioned in (False, True):
        frame, path = _documents(tmp_path, partitioned)
        found = texts_of(path, ["d5", "d0", "d0", "missing"])
        assert found.sort_index().to_dict() == {"d0": "text of d0", "d5": "text of d5"}
        assert texts_of(path, []).empty
        held = with_texts(read_parquet(path, without=("text",)), path, ["d1", "d6"])
        assert held.columns.tolist() == ["doc_id", "group", "text"]
        assert held["text"].tolist() == [None, "text of d1", None, None, None, None, "text of d6"]


def test_only_the_row_groups_that_hold_a_wanted_document_have_their_texts_read(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from newslens.files import wanted_texts

    _, path = _documents(tmp_path, partitioned=False)  # row groups d0-d2, d3-d5, d6
    read = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group",
                        lambda self, i, columns=None, **kw: read.append((i, tuple(columns))) or original(self, i, columns=columns, **kw))
    batches = list(wanted_texts(path, ["d6", "d1", "d2"]))
    assert batches == [(["d1", "d2"], ["text of d1", "text of d2"]), (["d6"], ["text of d6"])]  # file order
    assert ("text",) in [c for i, c in read if i == 0] and (1, ("text",)) not in read  # d3-d5: ids only
    assert list(wanted_texts(path, [])) == []
