"""newslens: reproducible text analysis of news, from raw text to shareable reports."""

__version__ = "0.1.0"
