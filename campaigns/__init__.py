"""Audiences with randomized holdouts and campaign measurement."""
