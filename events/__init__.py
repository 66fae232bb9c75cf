"""Raw first-party data: the event contract, validated storage, the simulator and importers."""
