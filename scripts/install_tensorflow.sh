#!/usr/bin/env bash
# Installs TensorFlow's C library for the TF backend plugin: the `tensorflow-cpu` wheel from PyPI
# (version pinned in scripts/versions.env; a 274 MB download, 1.3 GB unpacked, done once),
# unpacked without its Python dependencies into .build/tensorflow. The plugin needs three things
# from it:
#   .build/tensorflow/tensorflow/libtensorflow_cc.so.2         TF_NewGraph, TF_SessionRun, ...
#   .build/tensorflow/tensorflow/libtensorflow_framework.so.2  TF_NewTensor, TF_NewStatus, ...
#   .build/tensorflow/tensorflow/include/tensorflow/c/         the C API's headers (reference
#                                                              of backends/tf/src/ffi.rs)
# backends/tf/build.rs links against both libraries there (or in $TENSORFLOW_LIB_DIR), and
# `make build` copies them to dist/backends/redisai_tensorflow/lib/, where the plugin finds them
# through its RUNPATH ($ORIGIN/lib). The Python part of the wheel is not used.
# Nothing is fetched from anywhere but PyPI. Idempotent: does nothing when the pinned version is
# there. Uses .venv (scripts/python_env.sh) when it exists, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

target=.build/tensorflow
package=$target/tensorflow
stamp=$target/.installed
wanted="tensorflow-cpu==$TENSORFLOW_VERSION"
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi

python=.venv/bin/python
[ -x "$python" ] || python=python3
echo "installing TensorFlow $TENSORFLOW_VERSION (the $wanted wheel, ~274 MB) into $target"
rm -rf "$target"
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    --target "$target" "$wanted"
for file in libtensorflow_cc.so.2 libtensorflow_framework.so.2 include/tensorflow/c/c_api.h; do
    if [ ! -f "$package/$file" ]; then
        echo "the $wanted wheel has no $package/$file" >&2
        exit 1
    fi
done
echo "$wanted" >"$stamp"
