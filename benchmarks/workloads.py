"""What the benchmarks run: the news CSV at ×N (honest replicas), and the stage chain on it.

At each scale ``work/x{N}/`` holds ``news.csv`` and ``bench.yaml``, a run that reads that CSV
with the news run's settings; its stages write under ``work/x{N}/data/processed/bench/``
(a :class:`newslens.stages.StageRun` rooted at the scale's folder).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import yaml

from benchmarks.harness import ROOT, log
from newslens.params import Run, load_run
from newslens.stages import StageRun, stage

NEWS_CSV = ROOT / "data" / "raw" / "news-articles" / "NewsArticles.csv"
NEWS_PARAMS = ROOT / "params" / "news.yaml"
SEED_PARAMS = ROOT / "params" / "seed.yaml"
RUN_FILE = "bench.yaml"
# The table source that reads the news CSV (and its replicas) like the builtin does, minus the URL → outlet step.
CSV_COLUMNS = {"text_column": "text", "id_column": "article_id", "title_column": "title",
               "date_column": "publish_date", "group_column": "article_source_link"}
# The sections of the news run the later stages read (the ingest settings stay the defaults).
NEWS_SECTIONS = ("tokenize", "keywords", "topics")
# The stages the benchmarks run, in order; each one's output a later cell checks for.
CHAIN = {"01-ingest": "documents.parquet", "02-tokenize": "tokens.parquet", "03-keywords": "tfidf.parquet"}


def scale_dir(work: Path, scale: int) -> Path:
    """The folder of one scale's inputs and outputs."""
    return work / f"x{scale}"


def prewarm() -> None:
    """Import what the stages import lazily, and load simplemma's dictionary: imports are not compute."""
    import numpy  # noqa: F401 - imported to load it before timing
    import pandas  # noqa: F401 - imported to load it before timing
    import pyarrow.parquet  # noqa: F401 - imported to load it before timing
    import scipy.sparse  # noqa: F401 - imported to load it before timing
    import sklearn.decomposition
    import sklearn.feature_extraction.text  # noqa: F401 - imported to load it before timing
    import gensim.corpora
    import gensim.models
    import gensim.models.phrases
    import gensim.utils  # noqa: F401 - imported to load it before timing
    import joblib  # noqa: F401 - imported to load it before timing
    import ftfy  # noqa: F401 - imported to load it before timing
    import charset_normalizer  # noqa: F401 - imported to load it before timing
    import simplemma

    simplemma.lemmatize("tests", lang="en")
    from newslens.analysis import keywords, topics  # noqa: F401 - imported to load it before timing
    from newslens.corpus import clean, ingest, sentences, sources  # noqa: F401 - imported to load it before timing
    from newslens.text import tokenization  # noqa: F401 - imported to load it before timing


# =============================================================================== honest replicas

REPLICA_SEED = 0
# Sentences in a replica at least: a one- or two-sentence replica can be most of one donor (Jaccard ~0.6).
REPLICA_MIN_SENTENCES = 3
# Fresh vocabulary: in replica r, each word type (of 4+ letters) whose stable hash with r falls in
# this share is coined anew for that replica (``coin``), so types grow with the corpus as a real
# corpus's do, and the vocabulary-sized state of every stage is measured growing.
FRESH_SHARE = 0.05
_WORD = re.compile(r"\b[^\W\d_]{4,}\b")


def outlet(url: str) -> str:
    """The outlet of a news CSV row: the domain of its link (a malformed link is its own outlet)."""
    from newslens.corpus.sources import outlet_from_url

    try:
        return outlet_from_url(url)
    except Exception:  # noqa: BLE001 - any unparsable link
        return url


def make_replicas(raw, scale: int, *, seed: int = REPLICA_SEED, language: str = "en"):
    """The news CSV at ``scale`` times its rows: the originals, then ``scale - 1`` distinct replicas of each.

    Replica r ≥ 1 of an article is a new article of the same outlet (the domain of
    ``article_source_link``) and date, made of about as many sentences as the original has
    (``sentences.split_text_sentences``; at least :data:`REPLICA_MIN_SENTENCES`), each drawn from
    a different *other* article of that outlet while there are enough: its word 5-gram Jaccard
    with any one real article stays far below the near-duplicate threshold (0.8), so ingest
    keeps it as a document of its own and
    every later stage sees ``scale`` times the documents. Its id is ``<id>-r<r>``, its title a
    donor's title + `` (replica r)``, its link the original's + ``#replica-r`` (same outlet); an
    article without text gets a replica without text (skipped by ingest like the original).
    Deterministic: the same ``seed`` gives the same table.
    """
    import numpy as np
    import pandas as pd

    from newslens.corpus.sentences import split_text_sentences

    if scale < 1:
        raise ValueError(f"replicas: scale must be at least 1, not {scale}")
    raw = raw.reset_index(drop=True)
    texts = raw["text"].tolist()
    split = [split_text_sentences(text, language) for text in texts]
    outlets = raw["article_source_link"].map(outlet).to_numpy()
    has_text = np.array([bool(s) for s in split])
    donors_of = {name: np.flatnonzero((outlets == name) & has_text) for name in set(outlets)}
    taken = set(texts)  # no replica may repeat an original, or an earlier replica, exactly
    rng = np.random.default_rng(seed)
    parts = [raw]
    for replica in range(1, scale):
        titles, bodies = [], []
        for index in range(len(raw)):
            pool = donors_of[outlets[index]]
            pool = pool[pool != index]
            body, title_from = "", index
            if split[index] and len(pool):
                wanted = max(len(split[index]), REPLICA_MIN_SENTENCES)
                body, title_from = _replica_text(wanted, pool, split, rng, taken)
                taken.add(body)
            titles.append(f"{raw.at[title_from, 'title']} (replica {replica})")
            bodies.append(coin(body, replica))
        parts.append(raw.assign(article_id=raw["article_id"] + f"-r{replica}", title=titles, text=bodies,
                                article_source_link=raw["article_source_link"] + f"#replica-{replica}",
                                subtitle=""))
    return pd.concat(parts, ignore_index=True)


def coin(text: str, replica: int, share: float = FRESH_SHARE) -> str:
    """``text`` with about ``share`` of its word types made new for ``replica`` (the same types throughout).

    A coined word is the word with letters for ``replica`` added (``world`` → ``worldqzb``), so it is
    still a word to the tokenizer and new to the corpus. Which types are coined follows a stable hash
    of the word and the replica: the same in every process, different in every replica.

    >>> coin("The Belarusian president spoke", 1, share=1.0)
    'The Belarusianqzb presidentqzb spokeqzb'
    """
    import zlib

    import numpy as np

    suffix = "qz" + "".join(chr(ord("a") + int(d, 26)) for d in np.base_repr(replica, 26).lower())
    cut = int(share * 2**32)

    def fresh(match: re.Match) -> str:
        word = match.group(0)
        return word + suffix if zlib.crc32(f"{word.lower()}|{replica}".encode()) < cut else word

    return _WORD.sub(fresh, text)


def _replica_text(wanted: int, pool, split: list[list[str]], rng, taken: set[str]) -> tuple[str, int]:
    """``wanted`` sentences from ``wanted`` different donors of ``pool`` (repeating donors only once it runs out).

    Returns the text and its first donor (whose title the replica borrows). A text already in
    ``taken`` (an original or an earlier replica: one-sentence articles can collide) gets one more
    sentence from another donor until it is new.
    """
    donors = [int(d) for d in rng.choice(pool, size=min(wanted, len(pool)), replace=False)]
    while len(donors) < wanted:
        donors += [int(d) for d in rng.choice(pool, size=min(wanted - len(donors), len(pool)), replace=False)]
    text = " ".join(split[d][int(rng.integers(len(split[d])))] for d in donors)
    while text in taken:
        donor = int(rng.choice(pool))
        text += " " + split[donor][int(rng.integers(len(split[donor])))]
    return text, donors[0]


def prepare_inputs(work: Path, scales: list[int]) -> dict:
    """The news CSV at each scale (``make_replicas``), in ``work/x{N}/news.csv``.

    The later stages' inputs are the earlier stages' outputs on that CSV, written by the cells'
    first runs (or by :func:`ensure_stage`, untimed, when a cell did not run).
    """
    import pandas as pd

    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    raw = pd.read_csv(NEWS_CSV, dtype=str, keep_default_na=False)
    info = {"csv_rows": len(raw), "replica_seed": REPLICA_SEED, "rows": {}}
    for scale in scales:
        folder = scale_dir(work, scale)
        shutil.rmtree(folder, ignore_errors=True)  # never reuse tokens or matrices of an earlier run
        folder.mkdir(parents=True)
        table = make_replicas(raw, scale)
        table.to_csv(folder / "news.csv", index=False)
        info["rows"][str(scale)] = len(table)
        log.info("inputs ×%d: %d CSV rows", scale, len(table))
    info["seconds"] = round(time.perf_counter() - start, 2)
    return info


# =============================================================================== the stage chain

def bench_run(folder: Path) -> Run:
    """The run of this scale's CSV (``folder/bench.yaml``, written on first use): the news run's settings."""
    path = folder / RUN_FILE
    if not path.exists():
        news = yaml.safe_load(NEWS_PARAMS.read_text(encoding="utf-8"))
        params = {"title": "bench", "sources": [{"path": str(folder / "news.csv"), **CSV_COLUMNS}],
                  "unit": "document", **{key: news[key] for key in NEWS_SECTIONS}}
        path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_run(path)


def report_run(scale: int, work: Path | None = None) -> Path:
    """A params file for ``make report`` on the news CSV at ``scale`` (made if missing): its path.

    The replicated CSV gains an ``outlet`` column (the domain of each link, as the builtin news
    corpus groups its articles), so the run's groups are the nine outlets; the settings are the
    news run's. ``make report PARAMS=<path> ENGINE=dask`` then runs every stage at that scale.
    """
    import pandas as pd

    from benchmarks.harness import DEFAULT_WORK

    work = Path(work or DEFAULT_WORK)
    folder = scale_dir(work, scale)
    if not (folder / "news.csv").exists():
        prepare_inputs(work, [scale])
    table = pd.read_csv(folder / "news.csv", dtype=str, keep_default_na=False)
    table["outlet"] = table["article_source_link"].map(outlet)
    table.to_csv(folder / "news-outlets.csv", index=False)
    news = yaml.safe_load(NEWS_PARAMS.read_text(encoding="utf-8"))
    columns = {**CSV_COLUMNS, "group_column": "outlet"}
    params = {"title": f"News ×{scale} (replicas with fresh vocabulary)", "group_name": "outlet",
              "sources": [{"path": str(folder / "news-outlets.csv"), **columns}],
              "unit": "document", **{key: news[key] for key in NEWS_SECTIONS}}
    path = folder / f"news-x{scale}.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def stage_run(folder: Path, name: str) -> StageRun:
    """Stage ``name`` of this scale's run, writing under ``folder`` (its processed folder made)."""
    run = StageRun(bench_run(folder), stage(name), root=folder)
    run.processed_dir.mkdir(parents=True, exist_ok=True)
    return run


def run_stage(name: str, run: StageRun):
    """Run stage ``name`` in process, as its notebook does: the stage's own ``run()``; its Result."""
    from newslens.pipeline import in_process

    return in_process.RUNS[name](run)


def ensure_stage(folder: Path, name: str) -> None:
    """The outputs of stage ``name`` (and the stages before it) at this scale, made untimed if missing."""
    run = stage_run(folder, name)
    if (run.processed_dir / CHAIN[name]).exists():
        return
    earlier = list(CHAIN)[:list(CHAIN).index(name)]
    if earlier:
        ensure_stage(folder, earlier[-1])
    log.info("  %s missing in %s: running %s (untimed)", CHAIN[name], folder.name, name)
    run_stage(name, run)


def documents_path(folder: Path) -> Path:
    """Ingest's documents.parquet at this scale (made untimed if missing)."""
    ensure_stage(folder, "01-ingest")
    return stage_run(folder, "02-tokenize").input("documents.parquet")


def read_documents(folder: Path):
    """Ingest's documents at this scale (made untimed if missing)."""
    import pandas as pd

    return pd.read_parquet(documents_path(folder))


def read_tfidf(folder: Path):
    """The TF-IDF model at this scale, as the topics stage reads it (made untimed if missing)."""
    from newslens.analysis.tfidf import TFIDF_FILES, read_tfidf as read

    ensure_stage(folder, "03-keywords")
    run = stage_run(folder, "04-topics")
    return read(*(run.input(name) for name in TFIDF_FILES))
