"""Catalogue cases: the model, the submission and review workflow, import and export."""
