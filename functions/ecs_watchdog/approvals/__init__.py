"""People answering the watchdog from Slack: the buttons' contract (click.py), proposals and what a click
may do (pure). The edge that verifies Slack's signature lives in handlers/; the desk that carries a click
out lives in flow/."""
