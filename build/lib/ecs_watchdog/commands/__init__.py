"""The `ecs-watchdog` subcommands that talk to a real account from a laptop (restore, diagnose); cli.py
wires them. They call the same code the Lambda functions run."""
