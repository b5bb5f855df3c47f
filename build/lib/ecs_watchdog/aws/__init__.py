"""Adapters: the only modules that talk to AWS (boto3) or to Slack. Each is small and narrow."""
