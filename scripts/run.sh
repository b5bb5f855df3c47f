#!/usr/bin/env bash
# Run a command with the project's toolchain first on PATH: Node 22 (for jsii and the CDK CLI)
# from node_modules, then the venv. Usage: scripts/run.sh pytest tests/unit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/node_modules/node/bin:$root/node_modules/.bin:$root/.venv/bin:$PATH"
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1
cd "$root"
exec "$@"
