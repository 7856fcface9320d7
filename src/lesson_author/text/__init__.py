"""The one text toolkit: words (tokenize, stem, stopwords, similarity), degenerate-text detection."""
