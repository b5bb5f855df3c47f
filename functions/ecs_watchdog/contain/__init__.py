"""Containment: the pure decision, its guards, undo and the deployment gate."""
