"""Feature pipeline (contract tables -> timestamped customer features) and the Feast repository."""
