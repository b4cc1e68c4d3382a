#!/usr/bin/env bash
# Creates the project's Python environment, .venv, with the packages the test fixtures are
# generated with (tests/fixtures/make_onnx_models.py), onnx and numpy, and the redisai-py client
# the compatibility test drives (with redis-py), prometheus-client, whose text-format parser
# checks AI.METRICS, and tokenizers, whose token ids the embedding tests compare with, at the
# versions pinned in scripts/versions.env. Idempotent: does nothing when .venv already has them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

venv=.venv
python=${PYTHON:-python3}
wanted="onnx==$ONNX_VERSION numpy==$NUMPY_VERSION redisai==$REDISAI_PY_VERSION redis==$REDIS_PY_VERSION prometheus-client==$PROMETHEUS_CLIENT_VERSION tokenizers==$TOKENIZERS_PY_VERSION"
stamp=$venv/.redisai-packages

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing into $venv: $wanted"
    # shellcheck disable=SC2086  # one word per requirement
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $wanted
    echo "$wanted" >"$stamp"
fi
