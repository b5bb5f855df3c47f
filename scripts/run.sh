#!/usr/bin/env bash
# Run a command with the project's toolchain first on PATH: Node 22 (for jsii and the CDK CLI)
# from node_modules, then the venv. Usage: scripts/run.sh pytest tests/unit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/node_modules/node/bin:$root/node_modules/.bin:$root/.venv/bin:$PATH"
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1
# Bytecode is written, into one folder outside the source tree: where PYTHONDONTWRITEBYTECODE is set (it
# is on these machines), every process (each pytest worker, each interpreter a test starts, cfn-lint)
# compiled boto3, moto and the CDK from source again, a third of the suite's time.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$root/.build/pycache"
cd "$root"
exec "$@"
