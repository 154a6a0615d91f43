"""Parley's domain: frozen value objects and pure functions, free of Qt and SQL."""
