"""The committed runs' keyness, built in process: signs, intervals, group sizes, and no damaged-word fragments.

Each committed run (seed, Bundestag, news) runs stages 01–03 by their run() into a temporary
folder; its keyness table and vocabulary are then checked as a researcher would check them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from newslens.params import load_run
from newslens.pipeline import in_process
from newslens.text.tokenizer import Tokenizer
from newslens.text.words import DAMAGED

pytestmark = pytest.mark.slow
RUNS = ("seed", "bundestag", "news")


@pytest.fixture(scope="module", params=RUNS)
def built(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    results = in_process.run_stages(f"params/{request.param}.yaml", root=root, through="03-keywords")
    return request.param, results["03-keywords"], results["02-tokenize"], \
        in_process.stage_run(f"params/{request.param}.yaml", "03-keywords", root=root)


def test_no_log_ratio_contradicts_the_raw_rates_and_every_row_has_its_interval_and_share(built):
    name, result, _, stage_run = built
    keyness = pd.read_parquet(stage_run.processed_dir / "keyness.parquet")
    if name == "seed":  # one group (the article): nothing to compare
        assert keyness.empty
        return
    assert len(keyness) > 0
    sizes = pd.read_csv(stage_run.processed_dir / "keyness_groups.csv", keep_default_na=False)
    totals = sizes.groupby("by")["n_tokens"].sum()  # every grouped token: the reference counts small groups too
    d = keyness["by"].map(totals) - keyness["n_tokens"]
    raw = keyness["freq_target"] / keyness["n_tokens"] - keyness["freq_reference"] / d
    contradicts = np.sign(keyness["log_ratio"]) != np.sign(raw)
    assert not (contradicts & (raw.abs() > 1e-12)).any(), keyness[contradicts].head()
    assert keyness[["log_ratio_low", "log_ratio_high", "doc_share", "log_odds_z"]].notna().all().all()
    assert (keyness["log_ratio_low"] <= keyness["log_ratio_high"]).all()
    assert keyness["doc_share"].between(0, 1).all()
    over = keyness[keyness["direction"] == "over"]
    assert (over["doc_share"] > 0).all()  # an over-used term is used by the group


def test_no_group_below_the_minimum_is_compared(built):
    name, result, _, stage_run = built
    settings = load_run(f"params/{name}.yaml").params.keywords
    sizes = pd.read_csv(stage_run.processed_dir / "keyness_groups.csv", keep_default_na=False)
    keyness = pd.read_parquet(stage_run.processed_dir / "keyness.parquet")
    small = sizes[(sizes["n_docs"] < settings.keyness_min_documents) | (sizes["n_tokens"] < settings.keyness_min_tokens)]
    assert not small["compared"].any()
    assert set(zip(keyness["by"], keyness["group"])).isdisjoint(set(zip(small["by"], small["group"])))
    if name == "news":  # the focus article alone in its group, and its week alone, are never compared
        assert ("group", "seed") in set(zip(small["by"], small["group"]))
        assert ("period", "2022-01-10") in set(zip(small["by"], small["group"]))
        assert "seed" not in set(keyness["group"]) and "seed" not in result.explorer["groups"]
        assert [row[0] for row in result.explorer["too_small"]] == ["seed"]
    if name == "bundestag":  # one speech each: named as too small, never listed
        assert {"AfD", "independent"} <= set(small["group"]) and {"AfD", "independent"}.isdisjoint(keyness["group"])


def test_no_token_is_a_fragment_of_a_damaged_word(built):
    """A word that lost a character upstream ("F\ufffd\ufffdin") is one token, mark included, or its intact form."""
    name, _, tokenized, stage_run = built
    documents = pd.read_parquet(stage_run.processed_dir / "documents.parquet")
    tokenizer = Tokenizer.load(stage_run.processed_dir)
    vocabulary = set(pd.read_parquet(stage_run.processed_dir / "vocabulary.parquet")["term"])
    damaged = sorted({w for text in documents["text"] for w in text.split() if re.search(r"[^\W\d_]\ufffd", w)})
    for chunk in damaged:
        lowered = chunk.lower()
        for token in (t for sentence in tokenizer.analyze(chunk) for t in sentence):
            for piece in token.split("_"):
                assert DAMAGED in piece or piece + DAMAGED not in lowered, (chunk, token)
    if name == "news":
        assert len(damaged) > 100
        assert {"sinn_f", "fianna_f", "bus_ireann"}.isdisjoint(vocabulary)
        assert any(t.startswith("sinn_f" + DAMAGED) for t in vocabulary)
        assert tokenized.stats["spellings_unified"] > 0
