#!/usr/bin/env bash
# Create bench/.venv-reference with mediapipe 0.10.14 (the reference implementation, benchmarks only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv-reference"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "mediapipe==0.10.14" "numpy<2" av
echo "$venv/bin/python"
