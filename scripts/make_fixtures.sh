#!/usr/bin/env bash
# Generates the ONNX test fixtures into target/fixtures/onnx (or the directory given), with the
# project's Python environment. Idempotent and fast: the generator skips models it already wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python tests/fixtures/make_onnx_models.py "$@"
