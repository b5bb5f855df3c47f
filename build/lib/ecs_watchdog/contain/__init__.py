"""Containment: the pure decision, its guards, policy models, undo and what an incident remembers of an
action (claims.py); step.py decides on a fresh look, claims the incident and acts."""
