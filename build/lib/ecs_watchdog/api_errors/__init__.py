"""Failed ECS API calls seen through CloudTrail: the finding and its dedupe (findings.py, pure) and the
step that records and announces it (step.py)."""
