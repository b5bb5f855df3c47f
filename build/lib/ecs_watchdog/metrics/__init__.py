"""What the watchdog publishes to CloudWatch: the metric catalog (catalog.py) and how counts become EMF
(metering.py)."""
