"""Raw files to documents: the builtin corpora, fetching, reading sources, cleaning, language, dates."""
