"""View stores for the projections: PostgreSQL, and in-memory for the embedded default."""
