"""The `nudge` command line."""
