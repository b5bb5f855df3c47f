"""Failure loops and the incident lifecycle (pure): what a stream of stops and deployment events means."""
