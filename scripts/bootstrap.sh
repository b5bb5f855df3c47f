#!/usr/bin/env bash
# Make the project's toolchain on a fresh clone: a Python venv with requirements.txt, and the pinned
# Node tools (CDK CLI, Node 22 for jsii) from package-lock.json. Re-runs only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "ecs-watchdog needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

python_inputs=$(cat requirements.txt functions/requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat .venv/.installed 2>/dev/null)" != "$python_inputs" ]; then
  echo "Installing Python dependencies into .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$python_inputs" > .venv/.installed
fi

node_inputs=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.installed 2>/dev/null)" != "$node_inputs" ]; then
  command -v npm >/dev/null || { echo "npm is needed for the CDK toolchain (Node.js 18+)" >&2; exit 1; }
  echo "Installing the pinned CDK CLI and Node 22 into node_modules ..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_inputs" > node_modules/.installed
fi
