"""Ingest's partitions by reference: a table's slices read back the items of the whole table.

Each check reads a table through :func:`newslens.corpus.slices.plan` (byte ranges read on
their own, rows renumbered across slices as the driver does) and compares the items, in
order, with :func:`newslens.corpus.sources.read_source` reading the table whole.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newslens import params
from newslens.corpus import ingest, slices
from newslens.corpus.sources import read_source
from newslens.engine import Engine


def _through_slices(sources) -> list:
    """The items as the workers read them and the driver numbers them (ingest._in_order's rule)."""
    out, offsets, broken = [], {}, set()
    for part in slices.plan(sources):
        if part.source in broken:
            continue
        items = part.read()
        if isinstance(part, slices.TableSlice):
            rows, stops = slices.rows_read(items)
            offset = offsets.get(part.source, 0)
            offsets[part.source] = offset + rows
            for item in items:
                where, reason = slices.renumbered(item.location, getattr(item, "reason", ""), offset)
                changes = {"location": where} | ({"reason": reason} if hasattr(item, "reason") else {})
                out.append(dataclasses.replace(item, **changes))
            if stops:
                broken.add(part.source)
        else:
            out.extend(items)
    return out


def items_location(path: Path) -> str:
    """Where read_source says a table's rows lie (the file, as the log writes it)."""
    return next(iter(read_source(_source(path)))).location.rsplit(":", 1)[0]


def _source(path: Path) -> params.Source:
    return params.Source(path=str(path), text_column="text", id_column="id", group_column="outlet")


_CELL = st.text(st.sampled_from(list('ab ,"\n\r\té1')), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_CELL, _CELL, st.sampled_from(["x.com", "", "y"])), max_size=14),
       blank=st.lists(st.booleans(), max_size=14), crlf=st.booleans(), final_newline=st.booleans(),
       block=st.integers(1, 40))
def test_slices_read_what_the_whole_table_reads(tmp_path, monkeypatch, rows, blank, crlf, final_newline,
                                                block) -> None:
    monkeypatch.setattr(slices, "BATCH_SIZE", 3)  # many slices from a small table
    monkeypatch.setattr(slices, "SCAN_BYTES", block)  # records and quoted fields cut across scan blocks
    end = "\r\n" if crlf else "\n"

    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = ["id,text,outlet"]
    for number, (ident, text, outlet) in enumerate(rows):
        lines.append(",".join(quoted(v) for v in (ident, text, outlet)))
        if number < len(blank) and blank[number]:
            lines.append("")  # a blank line: no row
    path = tmp_path / "table.csv"
    path.write_bytes((end.join(lines) + (end if final_newline else "")).encode("utf-8"))
    source = _source(path)
    assert _through_slices([source]) == list(read_source(source))


def _reference_bounds(data: bytes, every: int) -> list[int]:
    """The header's end and every ``every``-th record's end after it, by a byte-at-a-time scan."""
    ends, quotes = [], 0
    for at, byte in enumerate(data):
        quotes += byte == ord('"')
        if byte == ord("\n") and quotes % 2 == 0:
            ends.append(at + 1)
    return ends[:1] + ends[1:][every - 1::every]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=80).map(lambda b: bytes(b'"\n,a'[x % 4] for x in b)),
       every=st.integers(1, 5), block=st.integers(1, 17))
def test_record_bounds_are_those_of_a_byte_by_byte_scan(tmp_path, data, every, block) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    assert list(slices.record_bounds(path, every, block)) == _reference_bounds(data, every)


def test_a_table_of_many_slices_is_read_by_reference(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(slices, "BATCH_SIZE", 4)
    path = tmp_path / "t.csv"
    path.write_text("id,text,outlet\n" + "".join(f'{i},"text {i}\nwith a line",o{i % 3}\n' for i in range(1, 11)))
    planned = list(slices.plan([_source(path)]))
    assert [type(p).__name__ for p in planned] == ["TableSlice"] * 3  # 4 + 4 + 2 records
    assert all(len(pickle.dumps(p)) < 16_000 for p in planned)  # a reference, not the rows
    items = _through_slices([_source(path)])
    assert [i.location.rsplit(":", 1)[1] for i in items] == [str(n) for n in range(1, 11)]
    assert items == list(read_source(_source(path)))


def test_a_slice_that_does_not_parse_ends_its_table(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(slices, "BATCH_SIZE", 2)
    path = tmp_path / "t.csv"
    good = "".join(f"{i},text {i},o\n" for i in range(1, 5))
    path.write_text("id,text,outlet\n" + good + '5,"a quote never closed,o\n6,text 6,o\n7,text 7,o\n')
    items = _through_slices([_source(path)])
    assert [i.location.rsplit(":", 1)[1] for i in items] == ["1", "2", "3", "4", "5"]
    assert items[-1].reason.startswith("unreadable from data row 5 to the end")
    # Read whole, the table fails in its first chunk of 50,000 rows: the slices keep the rows before
    whole = list(read_source(_source(path)))
    assert len(whole) == 1 and whole[0].reason.startswith("unreadable from data row 1 to the end")


def test_header_only_and_unreadable_tables_are_one_skip_each(tmp_path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("id,text,outlet\n")
    missing = tmp_path / "missing.csv"
    missing.write_text("id,body\n1,x\n")
    for path, reason in ((header, "no data rows (header only)"), (missing, "missing column 'text'")):
        [item] = _through_slices([_source(path)])
        assert item.reason.startswith(reason)
        assert [item] == list(read_source(_source(path)))


def test_ingest_numbers_rows_across_slices_on_the_engine(tmp_path, monkeypatch) -> None:
    """The whole stage: documents and log from a table cut in slices, read by worker processes."""
    monkeypatch.setattr(slices, "BATCH_SIZE", 5)
    path = tmp_path / "t.csv"
    path.write_text("id,text,outlet\n" + "".join(
        f"{i},Article number {i} says something about topic {i % 4} in a sentence.,o{i % 2}\n"
        for i in range(1, 24)) + "24,,o1\n")
    run = params.RunParams(title="t", sources=[_source(path)], language="en")
    result = ingest.ingest(run, engine=Engine(1))
    log = result.log
    assert log["location"].str.rsplit(":", n=1).str[1].astype(int).tolist() == list(range(1, 25))
    assert log["location"].str.rsplit(":", n=1).str[0].unique().tolist() == [items_location(path)]
    assert log.iloc[-1]["reason"] == "empty text"
    assert len(result.documents) == 23
