"""Numbers from tokens: TF-IDF keywords, keyness, keywords in context, topics and comparisons."""
