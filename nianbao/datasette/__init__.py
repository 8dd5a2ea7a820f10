"""Datasette configuration for the catalog: metadata, canned queries, templates and a plugin."""
