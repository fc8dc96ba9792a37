"""Full-text search over the catalogue: one SearchBackend interface, a Whoosh and a PostgreSQL backend, an outbox
and one indexer that keeps the index in step with the database (see docs/decisions/0003-search.md)."""
