#!/usr/bin/env bash
# Set up simgen on a fresh machine: check the offscreen-GL system libraries, create .venv and
# install simgen into it. Used by both README commands:
#   bash scripts/setup.sh            # simgen itself (run a generation)
#   bash scripts/setup.sh --test     # + torch (CPU), Ray, Hugging Face datasets, pytest, pandas, DuckDB
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${SIMGEN_VENV:-.venv}
extras=""
[ "${1:-}" = "--test" ] && extras="[test,ray,hf]"

# 1. Offscreen rendering needs EGL + Mesa (or a GPU driver's EGL).
have_libs() { ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' && ls /usr/lib/*/dri/swrast_dri.so /usr/lib/*/dri/*_dri.so >/dev/null 2>&1; }
if ! have_libs; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "setup: installing libegl1 libgl1-mesa-dri (offscreen OpenGL through EGL/Mesa)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1-mesa-dri >/dev/null
  else
    echo "setup: offscreen rendering needs the EGL and Mesa libraries. Install them, e.g." >&2
    echo "       sudo apt-get install -y libegl1 libgl1-mesa-dri" >&2
    exit 1
  fi
fi

# 2. A virtual environment with simgen (editable, so the checkout's conf/ and scenes/ are used).
#    Quiet: a few lines of progress; pip's own output only when something fails.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1
[ -x "$VENV/bin/python" ] || { echo "setup: creating $VENV"; "$PY" -m venv "$VENV"; }
"$VENV/bin/python" -m pip install -q --upgrade pip
if [ -n "$extras" ]; then
  # CPU build of torch, pinned: a bare `torch` requirement pulls a multi-GB CUDA build.
  echo "setup: installing torch 2.13.0 (CPU build)"
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
fi
echo "setup: installing simgen${extras:+ with $extras} (editable)"
# setuptools warns on every editable install of a package-dir mapping (conf/, scenes/, assets/ map into
# simgen.*); the layout is deliberate (simgen/paths.py), so that one warning is silenced.
PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/python" -m pip install -q -e ".$extras"
echo "setup: ready ($("$VENV/bin/python" -c 'import simgen; print("simgen", simgen.__version__)'), $VENV)"
