"""Importers: real files (transaction logs, randomized experiments) into the event contract."""
