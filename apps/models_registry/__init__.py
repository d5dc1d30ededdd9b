"""Model versions and the tile embeddings each one produced (pgvector)."""
