# The few commands people run; CI runs `make test` (see .ci/run).
# Each target installs what it runs (scripts/bootstrap.sh local|cdk|all): `make demo` needs no Node.
.PHONY: bootstrap bootstrap-local bootstrap-cdk demo test lint synth deploy bench audit

bootstrap:  ## everything: the runtime and sandbox, tests and lint, the CDK toolchain
	@scripts/bootstrap.sh all

bootstrap-local:
	@scripts/bootstrap.sh local

bootstrap-cdk:
	@scripts/bootstrap.sh cdk

demo: bootstrap-local  ## replay the seed incidents offline under five policies; print the comparison and the messages people would get
	@scripts/run.sh ecs-watchdog demo

test: bootstrap  ## dependency audit, lint and type-check, then the whole test suite (unit, integration, infrastructure)
	@scripts/run.sh python scripts/audit_dependencies.py
	@scripts/run.sh ruff check .
	@scripts/run.sh mypy
	@scripts/run.sh pytest -n 2 --dist worksteal

lint: bootstrap
	@scripts/run.sh ruff check .
	@scripts/run.sh ruff format --check .
	@scripts/run.sh mypy

synth: bootstrap-cdk  ## synthesize the stack into cdk.out (runs cdk-nag)
	@scripts/run.sh npx cdk synth --quiet

audit: bootstrap  ## pip-audit and npm audit: fails on a known vulnerability, says what it could not check
	@scripts/run.sh python scripts/audit_dependencies.py

bench: bootstrap-local  ## measure the real handler on moto (a few minutes; not part of `make test`): table + bench.json
	@scripts/run.sh ecs-watchdog bench --json bench.json

deploy: bootstrap-cdk  ## deploy into the account and region of your AWS credentials
	@scripts/run.sh npx cdk deploy
