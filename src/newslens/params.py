"""The run contract: a typed, strict, validated description of one run.

A run is described by one YAML file, ``params/<run>.yaml``; the file name is the
run name. Unknown keys, wrong types and impossible values stop the run before
any work starts, with a message that names the key, the bad value and what is
allowed (:class:`ParamsError`).

Example
-------
>>> run = load_run("params/seed.yaml")
>>> run.name, run.params.unit
('seed', 'sentence')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newslens import config, corpora

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
TEXT_SUFFIXES = (".txt", ".md")
# The builtin corpora a run can use: those of newslens.corpora.BUILTINS with a checked params file.
BUILTINS = tuple(name for name, corpus in corpora.BUILTINS.items() if corpus.usable)
# The run languages (ISO 639-1): each has a stop-word list (newslens.text.stopwords), simplemma lemmas,
# phrase connector words (newslens.text.phrases) and sentence abbreviations (newslens.corpus.sentences).
LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pt", "ru")
# Written without spaces between words: a word pattern cannot find their words, so they are refused.
UNSPACED_LANGUAGES = {"zh": "Chinese", "ja": "Japanese", "th": "Thai", "lo": "Lao", "km": "Khmer",
                      "my": "Burmese", "bo": "Tibetan"}
ENGINE_ENV = "NEWSLENS_ENGINE"  # e.g. `make report ENGINE=dask`
RUN_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class ParamsError(ValueError):
    """A params file breaks the run contract."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


NonEmptyStr = Annotated[str, Field(min_length=1)]
Fraction = Annotated[float, Field(gt=0.0, le=1.0)]
# A value a row filter compares with a cell: true/false match a cell that reads true/false in any case
# (R's TRUE, Python's True, a Parquet boolean); a number matches a cell of the same number; a string
# matches a cell that holds exactly that text.
CellValue = Annotated[bool, Field(strict=True)] | int | float | NonEmptyStr
JSONL_HEADER_LINES = 1_000  # the keys of a JSON Lines table are read from its first lines


def table_columns(path: Path) -> list[str] | None:
    """The columns of a table file (CSV/TSV header, Parquet schema, keys of the first JSON Lines objects).

    None when the file is absent or cannot be read: ingest checks the columns again and logs the table.
    """
    import csv
    import json

    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            if suffix != ".jsonl":
                return next(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","), None)
            keys: dict[str, None] = {}
            for _, line in zip(range(JSONL_HEADER_LINES), handle):
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                keys.update(dict.fromkeys(value) if isinstance(value, dict) else {})
            return list(keys) or None
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return None


class Source(_Strict):
    """One source of documents: a file, a folder, a table or a builtin corpus."""

    path: NonEmptyStr | None = None
    builtin: Literal[BUILTINS] | None = None
    group: NonEmptyStr | None = None
    text_column: NonEmptyStr | None = None
    id_column: NonEmptyStr | None = None
    title_column: NonEmptyStr | None = None
    date_column: NonEmptyStr | None = None
    group_column: NonEmptyStr | None = None
    # The row filter: column -> the values whose rows are left out (each logged by ingest with the reason).
    exclude: dict[NonEmptyStr, CellValue | Annotated[list[CellValue], Field(min_length=1)]] | None = None

    @field_validator("exclude")
    @classmethod
    def _exclude_lists(cls, exclude: dict | None) -> dict[str, tuple] | None:
        if exclude is not None and not exclude:
            raise ValueError("name at least one column, e.g. {chair: true}, or leave exclude out")
        return None if exclude is None else {column: tuple(values) if isinstance(values, list) else (values,)
                                             for column, values in exclude.items()}

    @model_validator(mode="after")
    def _one_kind(self) -> "Source":
        if (self.path is None) == (self.builtin is None):
            raise ValueError("give exactly one of 'path' or 'builtin'")
        columns = [self.text_column, self.id_column, self.title_column,
                   self.date_column, self.group_column]
        if self.builtin is not None and any(columns):
            raise ValueError("column mappings apply to 'path' tables only; "
                             "the builtin corpus maps its own columns")
        if self.path is not None:
            suffix = Path(self.path).suffix.lower()
            if suffix in TABLE_SUFFIXES and self.text_column is None:
                raise ValueError(f"table source {self.path!r} needs 'text_column'")
            if suffix not in TABLE_SUFFIXES and (any(columns) or self.exclude):
                what = "column mappings apply" if any(columns) else "exclude (a row filter) applies"
                raise ValueError(f"{what} to tables ({', '.join(TABLE_SUFFIXES)}); {self.path!r} is not one")
        if self.exclude:
            self._check_exclude()
        return self

    def _check_exclude(self) -> None:
        """Every column the row filter names is one of the table's (when its columns can be known now)."""
        if self.builtin is not None:
            corpus = corpora.get_builtin(self.builtin)
            found, where = list(corpus.table_columns) or table_columns(corpus.path), f"builtin {self.builtin}"
        else:
            found, where = table_columns(config.resolve_path(self.path)), repr(self.path)
        unknown = [column for column in self.exclude if found is not None and column not in found]
        if unknown:
            raise ValueError(f"exclude names column {unknown[0]!r}, which table {where} does not have "
                             f"(its columns: {', '.join(map(str, found))})")

    @property
    def label(self) -> str:
        """How the source is named in logs and outputs."""
        return f"builtin:{self.builtin}" if self.builtin else self.path


class TokenizeParams(_Strict):
    """Settings of the tokenize stage (02)."""

    lemmatize: bool = True
    keep_numbers: bool = False
    min_token_length: Annotated[int, Field(ge=1, le=10)] = 2
    max_token_length: Annotated[int, Field(ge=5, le=100)] = 30
    phrases: bool = True
    phrase_min_count: Annotated[int, Field(ge=1)] = 10
    phrase_threshold: Annotated[float, Field(gt=-1.0, lt=1.0)] = 0.5
    stopword_max_df: Fraction = 0.5
    extra_stopwords: list[NonEmptyStr] = Field(default_factory=list)
    formulas: bool = True  # learn the corpus's formulas as stop words (newslens.text.formulas)
    # News boilerplate as stop words: reporting verbs ("said"), outlets' names, page furniture.
    # For news only: in speeches or posts "said" and "told" are words like any other.
    news_boilerplate: bool = False
    keep: list[NonEmptyStr] = Field(default_factory=list)  # never stop words, nor learned formulas
    # English spelling variants (organisation/organization, per cent/percent) as one term, or kept
    # apart (newslens.text.spelling). Damaged words are repaired either way.
    spelling: Literal["unify", "keep"] = "unify"

    @model_validator(mode="after")
    def _keep_or_stop(self) -> "TokenizeParams":
        kept = {" ".join(term.lower().split()) for term in self.keep}
        both = sorted(kept & {" ".join(term.lower().split()) for term in self.extra_stopwords})
        if both:
            raise ValueError(f"keep and extra_stopwords both name {', '.join(map(repr, both))}; "
                             "a term is either kept or a stop word")
        if any(not term.strip() for term in self.keep):
            raise ValueError("keep: a term is blank; give a word, a phrase ('right_hon') or an "
                             "opener or closer as the tokenize report writes it ('dear sir')")
        return self


class KeywordsParams(_Strict):
    """Settings of the keywords stage (03)."""

    top_n: Annotated[int, Field(ge=1, le=200)] = 15
    min_df: Annotated[int, Field(ge=1)] = 2
    max_df: Fraction = 0.5
    sublinear_tf: bool = True
    similar_n: Annotated[int, Field(ge=1, le=100)] = 10
    kwic_terms: list[NonEmptyStr] = Field(default_factory=list)
    kwic_window: Annotated[int, Field(ge=1, le=30)] = 6
    keyness_min_freq: Annotated[int, Field(ge=1)] = 10
    keyness_top_n: Annotated[int, Field(ge=1, le=100)] = 10
    # The smallest group or period keyness compares: fewer documents or tokens, and it is listed as
    # too small (it stays in the others' reference). 5 documents is about the least a bootstrap over
    # documents can say anything with; 500 tokens, about two news articles.
    keyness_min_documents: Annotated[int, Field(ge=1)] = 5
    keyness_min_tokens: Annotated[int, Field(ge=1)] = 500
    # Keyness between periods: "auto" follows the time axis the span calls for (newslens.corpus.periods),
    # a resolution fixes it, null turns it off.
    period: Literal["auto", "day", "week", "month", "quarter", "year", "decade"] | None = "auto"

    @field_validator("kwic_terms")
    @classmethod
    def _kwic_words(cls, terms: list[str]) -> list[str]:
        # The rule of newslens.analysis.kwic._term_parts, checked here so the stage cannot fail on it later.
        for term in terms:
            if not all(re.split(r"_|\s+", term.strip())):
                raise ValueError(f"kwic term {term!r} has an empty word when split on '_' or spaces; "
                                 "give a word ('trade') or a phrase ('united_nations')")
        return terms


class TopicsParams(_Strict):
    """Settings of the topics stage (04)."""

    # auto: BTM for a corpus of short texts, NMF otherwise (newslens.analysis.short_texts)
    model: Literal["auto", "nmf", "lda", "btm"] = "auto"
    k: Annotated[int, Field(ge=2, le=200)] | Literal["auto"] = "auto"
    k_min: Annotated[int, Field(ge=2, le=200)] = 5
    k_max: Annotated[int, Field(ge=2, le=200)] = 40
    k_step: Annotated[int, Field(ge=1, le=50)] = 5
    seeds: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    top_n: Annotated[int, Field(ge=5, le=50)] = 10
    # A corpus of more documents is swept and fitted on this many, chosen by a hash of their id;
    # every document's weights then come from that model (newslens.analysis.topic_sample).
    # null: the default cap, SWEEP_SAMPLE (20,000 documents).
    sample_documents: Annotated[int, Field(ge=10)] | None = None
    # The model is fitted on at most this many terms, those in the most documents (the lowest IDF);
    # null: the default cap, TOPIC_TERMS (30,000 terms). Keywords and keyness keep every term.
    max_terms: Annotated[int, Field(ge=10)] | None = None

    @model_validator(mode="after")
    def _k_range(self) -> "TopicsParams":
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        return self


class RunParams(_Strict):
    """One run: what to read, how to cut it, and each stage's settings."""

    title: NonEmptyStr
    sources: list[Source] = Field(min_length=1)
    unit: Literal["document", "paragraph", "sentence"] = "document"
    # What the reports call one unit and one group ("article", "outlet"); see newslens.wording.
    unit_name: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    group_name: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    language: str = "en"  # one of LANGUAGES
    # Documents the ingest stage detects in another language: kept (and counted), or skipped (logged).
    other_languages: Literal["keep", "skip"] = "keep"
    focus: NonEmptyStr | None = None
    tokenize: TokenizeParams = Field(default_factory=TokenizeParams)
    keywords: KeywordsParams = Field(default_factory=KeywordsParams)
    topics: TopicsParams = Field(default_factory=TopicsParams)
    # How, not what: where ingest, tokenize and the counts run (results are the same
    # on both), so it is in no stage's slice. NEWSLENS_ENGINE overrides it for one command.
    engine: Literal["pandas", "dask"] = "pandas"

    @field_validator("language")
    @classmethod
    def _supported_language(cls, language: str) -> str:
        return check_language(language)

    @model_validator(mode="after")
    def _boilerplate_is_english(self) -> "RunParams":
        if self.tokenize.news_boilerplate and self.language != "en":
            raise ValueError(f"tokenize.news_boilerplate: the news boilerplate list is English "
                             f"(reporting verbs, outlets' names); set it false for language {self.language!r}")
        return self


def check_language(language: str) -> str:
    """``language`` when a run can use it; otherwise a ``ValueError`` naming the supported codes."""
    supported = ", ".join(LANGUAGES)
    code = language.strip().lower() if isinstance(language, str) else language
    if code in UNSPACED_LANGUAGES:
        raise ValueError(f"{UNSPACED_LANGUAGES[code]} ({code!r}) is written without spaces between words, "
                         f"which newslens cannot segment into words; supported: {supported}")
    if code not in LANGUAGES:
        raise ValueError(f"no support for language {language!r}; supported: {supported} (ISO 639-1 codes)")
    return code


class Run(BaseModel):
    """A validated run: its name, where its params came from, and the params."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    params_file: Path
    params: RunParams

    @property
    def processed_dir(self) -> Path:
        return config.processed_dir(self.name)

    @property
    def reports_dir(self) -> Path:
        return config.reports_dir(self.name)

    @property
    def build_dir(self) -> Path:
        return config.build_dir(self.name)


_UNION_TAGS = {"int", "str", "float", "bool", "list", "dict", "none"}


def _field_path(loc: tuple) -> str:
    """The dotted key of an error, without pydantic's union-member tags such as ``literal['auto']``."""
    parts = [str(part) for part in loc
             if isinstance(part, int) or (part.isidentifier() and part not in _UNION_TAGS)]
    return ".".join(parts) or "(top level)"


def _describe(errors: list[dict[str, Any]]) -> list[str]:
    """One line per bad key: the key, the value given, and what is allowed."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for error in errors:
        by_key.setdefault(_field_path(error["loc"]), []).append(error)
    lines = []
    for key, group in by_key.items():
        first = group[0]
        if first["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (value {first['input']!r}); "
                         "check the spelling against the run contract")
        elif first["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        else:
            allowed = " or ".join(dict.fromkeys(error["msg"] for error in group))
            lines.append(f"{key}: got {first['input']!r}; {allowed}")
    return lines


def validate_params(raw: Any, *, origin: str = "params") -> RunParams:
    """Validate a mapping against the run contract, or raise :class:`ParamsError`."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{origin}: expected a mapping of keys (title, sources, ...), "
                          f"got {type(raw).__name__}")
    try:
        return RunParams.model_validate(raw)
    except ValidationError as exc:
        lines = _describe(exc.errors(include_url=False))
        raise ParamsError(f"{origin}: invalid parameters\n  - " + "\n  - ".join(lines)) from None


def run_name(params_file: str | Path) -> str:
    """The run name is the params file's stem; it must be a safe folder name."""
    name = Path(params_file).stem
    if not name or not set(name) <= RUN_NAME_CHARS:
        raise ParamsError(f"{params_file}: the run name {name!r} (the file name) may use only "
                          "lowercase letters, digits, '-' and '_'")
    return name


def load_run(params_file: str | Path) -> Run:
    """Read, validate and name a run from its YAML file (relative to the project root or absolute)."""
    path = config.resolve_path(params_file)
    if not path.is_file():
        raise ParamsError(f"{params_file}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{params_file}: not valid YAML: {exc}") from None
    if isinstance(raw, dict) and os.environ.get(ENGINE_ENV):
        raw = {**raw, "engine": os.environ[ENGINE_ENV]}
        origin = f"{params_file} (with {ENGINE_ENV}={os.environ[ENGINE_ENV]})"
    else:
        origin = str(params_file)
    params = validate_params(raw, origin=origin)
    return Run(name=run_name(path), params_file=path, params=params)
