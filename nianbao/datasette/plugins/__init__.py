"""Datasette plugins loaded by `nianbao serve` (plugins_dir)."""
