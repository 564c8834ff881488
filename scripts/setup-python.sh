#!/usr/bin/env bash
# Creates the project virtualenv (.venv) from python/requirements.txt.
# Re-running is cheap: pip skips what is already installed, and downloads are
# cached in .cache/pip (ignored by git).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "setup-python: '$python' not found; install Python 3.10+ or set PYTHON" >&2
  exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  "$python" -m venv "$root/.venv"
fi
"$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --cache-dir "$root/.cache/pip" -r "$root/python/requirements.txt"
echo "setup-python: .venv ready ($("$root/.venv/bin/python" --version))"
