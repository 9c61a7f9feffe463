"""Text sources, vocabulary training, tokenization and packing."""
