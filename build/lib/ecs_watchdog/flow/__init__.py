"""The flow that composes the capabilities: one path per event (pipeline.py), a record done, parked or
retried (intake.py)."""
