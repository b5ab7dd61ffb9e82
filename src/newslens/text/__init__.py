"""Documents to tokens: words, stop words, phrases, formulaic openers and the frozen tokenizer."""
