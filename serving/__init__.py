"""BentoML service: Feast online features + champion models -> scores."""
