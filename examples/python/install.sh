#!/usr/bin/env bash
# Install the Python host of examples/python/logmel.py: a virtual environment on Debian's python3
# (which has numpy: apt-get install python3-numpy python3-venv) with the `wasmtime` package from
# the machine's configured Python package sources. The environment goes to build/pyenv-examples
# (git-ignored). Prints the interpreter to use. Exit 1 when something is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${EARSHOT_PYTHON:-/usr/bin/python3}"
VENV="$ROOT/build/pyenv-examples"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import wasmtime, numpy' 2>/dev/null; then
  echo "$VENV/bin/python"
  exit 0
fi
if ! "$PY" -c 'import numpy' 2>/dev/null; then echo "examples/python: $PY has no numpy (apt-get install python3-numpy)" >&2; exit 1; fi
"$PY" -m venv --system-site-packages "$VENV" >&2 || { echo "examples/python: cannot create a venv with $PY (apt-get install python3-venv)" >&2; exit 1; }
"$VENV/bin/pip" install --quiet --retries 1 --timeout 15 wasmtime >&2 || { echo "examples/python: pip install wasmtime failed" >&2; exit 1; }
"$VENV/bin/python" -c 'import wasmtime, numpy' >&2
echo "$VENV/bin/python"
