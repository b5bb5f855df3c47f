"""Announcing incident transitions: the channels people read, and the outbox protocol that makes each
transition reach each channel once."""
