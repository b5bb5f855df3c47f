#!/usr/bin/env bash
# Make the project's toolchain on a fresh clone, for one purpose at a time, re-running only what changed:
#   scripts/bootstrap.sh local   .venv with the runtime and the offline sandbox (requirements/local.txt):
#                                what `make demo` and `make bench` run; no Node, no CDK
#   scripts/bootstrap.sh cdk     local + the CDK app (requirements/cdk.txt) + the pinned CDK CLI and
#                                Node 22 (for jsii) from package-lock.json: `make synth`, `make deploy`
#   scripts/bootstrap.sh all     everything (requirements.txt: local + tests and lint + CDK) and the
#                                Node tools: `make test`, `make lint`, CI (the default)
set -euo pipefail
cd "$(dirname "$0")/.."

purpose=${1:-all}
case "$purpose" in
  local) requirements=requirements/local.txt; node=no ;;
  cdk) requirements="requirements/local.txt requirements/cdk.txt"; node=yes ;;
  all) requirements=requirements.txt; node=yes ;;
  *) echo "usage: scripts/bootstrap.sh [local|cdk|all] (got '$purpose')" >&2; exit 2 ;;
esac

# Progress goes to the terminal only: a log (CI, a pipe) gets the same lines without the clock.
started=$(date +%s)
step() {
  if [ -t 1 ]; then echo "[bootstrap $purpose +$(($(date +%s) - started))s] $*"; else echo "[bootstrap $purpose] $*"; fi
}

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "ecs-watchdog needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi

# --no-compile: Python compiles only the modules it imports, on first import (botocore alone is thousands).
# One stamp per purpose: the hash of every file that purpose installs from. `all` includes the others.
inputs_of() {
  case "$1" in
    local) cat requirements/local.txt functions/requirements.txt pyproject.toml ;;
    cdk) inputs_of local; cat requirements/cdk.txt ;;
    all) cat requirements.txt requirements/*.txt functions/requirements.txt pyproject.toml ;;
  esac | sha256sum | cut -c1-16
}
stamp=.venv/.installed-$purpose
if [ "$(cat "$stamp" 2>/dev/null)" != "$(inputs_of "$purpose")" ]; then
  step "installing Python packages from $requirements into .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile $(printf -- '-r %s ' $requirements)
  inputs_of "$purpose" > "$stamp"
  if [ "$purpose" = all ]; then
    inputs_of local > .venv/.installed-local
    inputs_of cdk > .venv/.installed-cdk
  fi
  step "Python packages installed"
fi

[ "$node" = yes ] || exit 0
node_inputs=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.installed 2>/dev/null)" != "$node_inputs" ]; then
  command -v npm >/dev/null || {
    echo "the CDK toolchain needs npm (any Node.js version: it installs its own Node 22 from package-lock.json); make demo does not" >&2
    exit 1
  }
  step "installing the pinned CDK CLI and Node 22 into node_modules (npm ci) ..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_inputs" > node_modules/.installed
  step "Node tools installed"
fi
