"""Embedded default configs (*.yaml) and the typed models that validate them."""
