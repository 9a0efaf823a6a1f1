#!/usr/bin/env bash
# The official MCP Python SDK (pinned in requirements.txt) against rmm mcp over stdio and
# streamable HTTP: creates .venv here (python3 -m venv) the first time or when
# requirements.txt changed, installs into it, runs test_mcp_python.py. RMM_BIN names the rmm
# binary (default target/debug/rmm of this checkout; it is not built here).
set -euo pipefail
cd "$(dirname "$0")"
export RMM_BIN="${RMM_BIN:-$PWD/../../../target/debug/rmm}"
venv=.venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s requirements.txt "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  # pip is tried twice: a registry hiccup is not a failure of ours.
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt ||
    "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$venv/requirements.txt"
fi
exec "$venv/bin/python" test_mcp_python.py
