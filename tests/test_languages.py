"""Languages beyond English: the contract, sentences, stop words, lemmas, phrases and detection.

Each run language gets a few real-sounding sentences of political news, written for these
tests; the German and Spanish ParlSpeech samples are run end to end on a few hundred speeches.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from newslens.corpus import ingest
from newslens.corpus.language import MIN_CONFIDENCE, detect_language, language_counts, language_warning
from newslens.params import LANGUAGES, ParamsError, TokenizeParams, validate_params
from newslens.text.phrases import LANGUAGE_CONNECTORS, connector_words
from newslens.corpus.sentences import split_text_sentences
from newslens.text.stopwords import standard_keep, standard_stopwords, stopword_sources
from newslens.text.tokenization import tokenize_documents
from newslens.text.tokenizer import Tokenizer
from newslens.text.words import words

# ---------------------------------------------------------------- one case per language
#
# text: two or three sentences, the first with an abbreviation that must not end it;
# sentences: how many; stop: stop words the text holds; kept: lemmas that must remain;
# lemma: (surface word, lemma); phrase: (the phrase's words, its term), repeated in a corpus.

CASES = {
    "en": dict(
        text="Mr. Johnson met the U.S. envoy on Jan. 10 to discuss the elections. The talks were brief.",
        sentences=2, stop=["the", "were", "to"], kept=["election", "talk", "envoy"],
        lemma=("elections", "election"), phrase=("Chancellor of the Exchequer", "chancellor_of_the_exchequer")),
    "de": dict(
        text=("Die Bundesregierung hat z.B. am 3. Oktober neue Maßnahmen beschlossen. Laut Dr. Müller "
              "gilt das bzw. die Regel nach Abs. 2 für alle Bürger. Über die Rente wird im Bundestag gestritten."),
        sentences=3, stop=["die", "hat", "für", "alle", "wird"], kept=["bundesregierung", "beschließen", "bürger"],
        lemma=("beschlossen", "beschließen"),
        phrase=("Bundesministerium für Gesundheit", "bundesministerium_für_gesundheit")),
    "es": dict(
        text=("El Sr. Rajoy viajó a EE.UU. con la Sra. Sáenz, según la pág. 4 del informe. ¿Qué dirá el "
              "Gobierno sobre las políticas de empleo? Ñuflo, el portavoz, no respondió."),
        sentences=3, stop=["el", "con", "la", "sobre", "las", "no"], kept=["gobierno", "política", "empleo"],
        lemma=("políticas", "política"), phrase=("Ministerio de Hacienda", "ministerio_de_hacienda")),
    "fr": dict(
        text=("M. Macron a reçu mardi les représentants des syndicats, selon le ministère. Élisabeth Borne "
              "défend l'accord sur les retraites devant l'Assemblée nationale."),
        sentences=2, stop=["les", "des", "selon", "le", "sur"], kept=["syndicat", "retraite", "accord"],
        lemma=("retraites", "retraite"), phrase=("ministre de l'Intérieur", "ministre_de_intérieur")),
    "it": dict(
        text=("Il sig. Rossi, presidente della commissione, ha presentato ieri la riforma. Secondo "
              "l'opposizione i governi precedenti hanno tagliato i fondi per la sanità."),
        sentences=2, stop=["il", "della", "ha", "la", "per"], kept=["riforma", "governo", "sanità"],
        lemma=("governi", "governo"), phrase=("Camera dei deputati", "camera_dei_deputati")),
    "nl": dict(
        text=("Volgens dhr. Rutte wil het kabinet bijv. de belasting op arbeid verlagen. De oppositie "
              "eist nieuwe verkiezingen in het voorjaar."),
        sentences=2, stop=["het", "wil", "de", "op", "in"], kept=["kabinet", "belasting", "verkiezing"],
        lemma=("verkiezingen", "verkiezing"), phrase=("Partij van de Arbeid", "partij_van_de_arbeid")),
    "pt": dict(
        text=("O Sr. Costa anunciou ontem novas medidas, segundo a pág. 3 do relatório. Os sindicatos "
              "exigem eleições antecipadas e aumentos dos salários."),
        sentences=2, stop=["o", "a", "do", "os", "e", "dos"], kept=["sindicato", "eleição", "salário"],
        lemma=("eleições", "eleição"), phrase=("Ministério da Saúde", "ministério_da_saúde")),
    "ru": dict(
        text=("По словам проф. Иванова, правительство т.е. кабинет министров одобрило новый бюджет. "
              "Депутаты Государственной думы обсудили реформу пенсионной системы."),
        sentences=2, stop=["по", "т.е"], kept=["правительство", "бюджет", "депутат"],
        lemma=("правительства", "правительство"), phrase=("комитет по бюджету", "комитет_по_бюджету")),
}


def test_every_language_has_a_case_and_its_pieces():
    assert set(CASES) == set(LANGUAGES) == set(LANGUAGE_CONNECTORS)
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    for language in LANGUAGES:
        assert len(standard_stopwords(language)) > 100
        assert not standard_keep(language) & {"und", "de", "the", "и"}  # exceptions are content words
        assert language in SUPPORTED_LANGUAGES  # simplemma has a dictionary for it


def _stopwords(language: str, settings: TokenizeParams) -> frozenset[str]:
    return frozenset(stopword_sources(Counter(), 0, settings, language)["term"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_split_by_the_language_and_keep_its_abbreviations(language):
    case = CASES[language]
    sentences = split_text_sentences(case["text"], language)
    assert len(sentences) == case["sentences"], sentences
    assert "".join(sentences).replace(" ", "") == case["text"].replace(" ", "")  # exact spans


@pytest.mark.parametrize("language", LANGUAGES)
def test_stop_words_go_and_lemmas_stay(language):
    case = CASES[language]
    settings = TokenizeParams(phrases=False, formulas=False)
    tokenizer = Tokenizer(settings, language, None, _stopwords(language, settings))
    tokens = [t for sentence in tokenizer.analyze(case["text"]) for t in sentence]
    assert not set(case["stop"]) & set(tokens), tokens
    assert set(case["kept"]) <= set(tokens), tokens
    surface, lemma = case["lemma"]
    assert tokenizer.normalize(surface) == lemma


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_phrase_forms_across_the_languages_connector_words(language):
    words_of_phrase, term = CASES[language]["phrase"]
    inside = [w.lower() for w in words(words_of_phrase, language)][1:-1]
    assert inside and set(inside) <= connector_words(language)
    fillers = CASES[language]["text"].split()
    texts = [f"{words_of_phrase} {' '.join(fillers[i % len(fillers):][:4])}. {words_of_phrase}!"
             for i in range(30)]
    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(30)], "text": texts})
    result = tokenize_documents(documents, TokenizeParams(phrase_min_count=5, formulas=False,
                                                          stopword_max_df=1.0), language, n_jobs=1)
    assert term in set(result.phrases["phrase"]), result.phrases.head()
    shown = result.vocabulary.set_index("term")["display"]
    assert shown[term] == " ".join(words(words_of_phrase, language))  # as written, case and accents kept


def test_words_keep_the_letters_of_every_language():
    assert words("Die Straße führt über die Grenze.", "de") == ["Die", "Straße", "führt", "über", "die", "Grenze"]
    assert words("España y Cataluña negocian.", "es") == ["España", "y", "Cataluña", "negocian"]
    assert words("De Raad van State adviseert België.", "nl")[-1] == "België"
    assert words("Госдума приняла закон.", "ru") == ["Госдума", "приняла", "закон"]
    assert words("L'Italia dell'euro e l'Unione.", "it") == ["Italia", "euro", "e", "Unione"]
    assert words("China's U.S. trade.", "en") == ["China", "U.S.", "trade"]  # English as before


# ---------------------------------------------------------------- the contract

@pytest.mark.parametrize("code, fragment", [
    ("zh", "Chinese ('zh') is written without spaces"),
    ("ja", "Japanese ('ja') is written without spaces"),
    ("xx", "no support for language 'xx'"),
    ("sv", "no support for language 'sv'"),
])
def test_unsupported_languages_are_refused_with_the_supported_codes(code, fragment):
    with pytest.raises(ParamsError) as error:
        validate_params({"title": "t", "sources": [{"path": "a.txt"}], "language": code})
    assert fragment in str(error.value)
    assert "supported: de, en, es, fr, it, nl, pt, ru" in str(error.value)


def test_news_boilerplate_is_english_only():
    with pytest.raises(ParamsError, match="news boilerplate list is English"):
        validate_params({"title": "t", "sources": [{"path": "a.txt"}], "language": "de",
                         "tokenize": {"news_boilerplate": True}})


def test_other_languages_takes_keep_or_skip():
    base = {"title": "t", "sources": [{"path": "a.txt"}]}
    assert validate_params(base).other_languages == "keep"
    assert validate_params({**base, "other_languages": "skip"}).other_languages == "skip"
    with pytest.raises(ParamsError, match="other_languages"):
        validate_params({**base, "other_languages": "drop"})


# ---------------------------------------------------------------- detection

KNOWN = {
    "de": "Die Bundesregierung hat am Mittwoch einen Gesetzentwurf zur Reform der Rente beschlossen.",
    "es": "El Gobierno aprobó ayer el proyecto de ley de presupuestos generales del Estado.",
    "fr": "Le gouvernement a présenté mardi un projet de loi sur les retraites, que l'opposition juge injuste.",
    "ru": "Правительство одобрило новый бюджет на следующий год, сообщил министр финансов вчера.",
    "en": "The government announced new measures to curb inflation and protect the wages of workers.",
}


@pytest.mark.parametrize("language", sorted(KNOWN))
def test_detection_knows_each_text(language):
    found = detect_language(KNOWN[language], "de")
    assert found.detected == language and found.language == language
    assert found.confidence >= MIN_CONFIDENCE
    assert detect_language(KNOWN[language], "de") == found  # deterministic


def test_a_short_text_is_taken_as_the_runs_language():
    found = detect_language("Merci beaucoup.", "de")
    assert (found.language, found.detected, found.confidence) == ("de", None, None)
    assert "too short to detect" in found.how


@pytest.fixture()
def mixed_folder(tmp_path):
    folder = tmp_path / "speeches"
    folder.mkdir()
    for i, text in enumerate([KNOWN["de"], CASES["de"]["text"], "Ja.", KNOWN["fr"]]):
        (folder / f"s{i}.txt").write_text(text, encoding="utf-8")
    return folder


def _run(folder, **extra):
    return validate_params({"title": "Mixed", "sources": [{"path": str(folder), "group": "g"}],
                            "language": "de", **extra})


def test_other_languages_keep_counts_them(mixed_folder):
    result = ingest.ingest(_run(mixed_folder))
    docs = result.documents.set_index("location")
    by_file = {loc.rsplit("/", 1)[-1]: lang for loc, lang in docs["language"].items()}
    assert by_file == {"s0.txt": "de", "s1.txt": "de", "s2.txt": "de", "s3.txt": "fr"}
    assert docs["detected_language"].isna().sum() == 1  # "Ja." is too short to detect
    counts = language_counts(result.documents, result.log)
    assert counts.groupby("language")["units"].sum().to_dict() == {"de": 3, "fr": 1}
    assert "too short to detect: taken as the run's language" in set(counts["how"])
    assert language_warning(counts, "de") is None
    assert "(75%) are detected as de" in language_warning(counts, "es")


def test_other_languages_skip_logs_each_one(mixed_folder):
    result = ingest.ingest(_run(mixed_folder, other_languages="skip"))
    assert len(result.documents) == 3 and set(result.documents["language"]) == {"de"}
    skipped = result.log[result.log["status"] == "skipped"]
    assert len(skipped) == 1 and skipped["location"].iloc[0].endswith("s3.txt")
    assert skipped["reason"].iloc[0] == "detected language fr (1.00), run language de"
    counts = language_counts(result.documents, result.log)
    assert "detected: skipped (other_languages: skip)" in set(counts["how"])
    assert counts["units"].sum() == 4  # nothing dropped silently


def test_a_corpus_mostly_in_another_language_is_warned_about(tmp_path):
    folder = tmp_path / "fr"
    folder.mkdir()
    for i in range(3):
        (folder / f"f{i}.txt").write_text(f"{KNOWN['fr']} Le débat numéro {i} continue demain.", encoding="utf-8")
    (folder / "d.txt").write_text(KNOWN["de"], encoding="utf-8")
    result = ingest.ingest(_run(folder))
    warning = language_warning(language_counts(result.documents, result.log), "de")
    assert warning.startswith("most of this corpus is not in the run's language (de): 3 of 4 units (75%)")


# ---------------------------------------------------------------- the German and Spanish runs

SAMPLE = 300


@pytest.mark.slow
@pytest.mark.parametrize("name, language", [("bundestag", "de"), ("congreso", "es")])
def test_no_standard_stop_word_leads_keyness_or_a_topic(tmp_path, name, language):
    """A sample of the builtin run, ingest to topics: its top terms hold no stop word, and show as written."""
    from newslens import config
    from newslens.analysis import keywords, topics
    from newslens.analysis.tfidf import fit_tfidf
    from newslens.params import KeywordsParams, TopicsParams
    from newslens.text.tokenization import load_analyzer, write_outputs

    raw = config.RAW_DIR / name / f"{language}.csv"
    if not raw.is_file():
        pytest.skip(f"{raw.name} not fetched: `make data CORPUS={name}`")
    sample = tmp_path / f"{name}.csv"
    pd.read_csv(raw).head(SAMPLE).to_csv(sample, index=False)
    params = validate_params({"title": name, "language": language, "sources": [{
        "path": str(sample), "text_column": "text", "group_column": "party", "date_column": "date"}],
        "topics": {"k": 5, "seeds": [0]}})
    documents = ingest.ingest(params).documents
    result = tokenize_documents(documents, params.tokenize, language, n_jobs=1)
    write_outputs(result, tmp_path)
    display = dict(zip(result.vocabulary["term"], result.vocabulary["display"]))
    doc_ids, analyzer = load_analyzer(tmp_path)
    tfidf = fit_tfidf(doc_ids, analyzer, KeywordsParams(), engine="pandas")
    keyness, _ = keywords.group_keyness(tfidf, documents, KeywordsParams())
    top_keyness = keyness[(keyness["by"] == "group") & (keyness["direction"] == "over") & (keyness["rank"] <= 10)]
    found = topics.run_topics(tfidf, TopicsParams(k=5, seeds=[0]), display=display,
                              identities_path=tmp_path / "topics.json", labels_path=tmp_path / "labels.yaml",
                              n_jobs=1)
    top_topics = found.topic_terms[found.topic_terms["rank"] <= 10]
    standard = standard_stopwords(language) - standard_keep(language)  # "Estado" is a term, on purpose
    for label, terms in (("keyness", top_keyness["term"]), ("topics", top_topics["term"])):
        assert len(terms) >= 20
        # a stop word may sit inside a phrase ("ministerio_de_hacienda"), never at either end
        ends = {part for term in terms for part in (term.split("_")[0], term.split("_")[-1])}
        assert not ends & standard, (label, sorted(ends & standard))
    shown = [display[t] for t in set(top_keyness["term"]) | set(top_topics["term"])]
    if language == "de":  # nouns keep their capital: "Bundesregierung", not "bundesregierung"
        assert sum(s[:1].isupper() for s in shown) > len(shown) / 2, shown
    else:  # accents kept in what readers see
        assert any(set(s) & set("áéíóúñ") for s in shown), shown
