"""The scheduled sweep: what it makes of one described service (judgement.py, pure) and the bounded,
resumable walk over every cluster (step.py)."""
