"""The scheduled sweep: what it makes of one described service (judgement.py, pure), where its walk stopped
(cursor.py), and the bounded, resumable walk over every cluster (step.py)."""
