"""Telling people: rendering (content.py, slack_blocks.py, email.py, render.py; pure), the update cadence
(cadence.py; pure), the channels people read (channels.py), the outbox protocol that makes each transition
reach each channel once (outbox.py) and the count updates it sends on the cadence (updates.py)."""
