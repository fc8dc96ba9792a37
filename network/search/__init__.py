"""The search layer of the network: one outbox and one indexer keyed by (kind, object id), the kind registry, a
generic record index (Whoosh and PostgreSQL) for the kinds that need no engine of their own, and the one box.

Each feature declares its kind in its own module (catalogue/cases/search.py, network/forum/search.py,
network/directory/search.py); create_app registers them in one step (app.configure_search). See
docs/decisions/0010-one-search-layer.md."""
