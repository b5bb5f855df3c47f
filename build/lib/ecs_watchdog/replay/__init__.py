"""Offline replay of ECS incidents: scenario files, a model of the ECS service scheduler, and a
moto mirror that lets the watchdog's real handler code run against the simulated account.

Never packaged into a Lambda function and never imported by the watchdog core.
"""
