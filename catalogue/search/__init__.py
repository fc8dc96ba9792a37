"""The case engines until they move into network/search/: one SearchBackend interface, a Whoosh and a PostgreSQL
backend, the query language, analysis and highlighting (see docs/decisions/0003-search.md). The outbox, the indexer
and the kinds are the search layer's (network/search/); cases are declared as a kind in catalogue/cases/search.py."""
