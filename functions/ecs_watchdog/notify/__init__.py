"""Turn findings into messages for people (pure rendering; delivery lives in aws/)."""
