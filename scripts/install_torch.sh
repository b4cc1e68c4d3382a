#!/usr/bin/env bash
# Installs libtorch for the TORCH backend plugin: the `torch` wheel from PyPI (version pinned in
# scripts/versions.env; a ~527 MB download, 1.2 GB unpacked, done once) without its Python
# dependencies, plus the two small CUDA runtime wheels libtorch_cpu.so needs to load
# (libcudart.so.13 and libcupti.so.13; the rest of the CUDA stack is not installed), into
# .build/torch. The plugin needs from it:
#   .build/torch/torch/lib/libtorch_cpu.so, libc10.so, libgomp.so.1   linked by the C++ shim
#   .build/torch/torch/include/                                        headers for the C++ shim
#   .build/torch/nvidia/cu13/lib/libcudart.so.13, libcupti.so.13      loaded by libtorch_cpu.so
# (never the wheel's libtorch.so, which pulls in libtorch_cuda.so and the whole CUDA stack;
# backends/torch/build.rs links against the libraries above only). `make build` copies them to
# dist/backends/redisai_torch/lib/, where the plugin finds them through its RUNPATH ($ORIGIN/lib).
# With TORCH_CUDA=1 (the GPU image) it also installs the CUDA libraries libtorch_cuda.so needs
# (TORCH_CUDA_PACKAGES, several GB) into .build/torch/cuda, from which `make build TORCH_CUDA=1`
# makes dist/backends/redisai_torch/cuda/ (libtorch_cuda.so and its CUDA libraries, which the
# plugin loads at start when they are there).
# Nothing is fetched from anywhere but PyPI. Idempotent: does nothing when the pinned version is
# there. Uses .venv (scripts/python_env.sh) when it exists, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

target=.build/torch
stamp=$target/.installed
wanted="torch==$TORCH_VERSION nvidia-cuda-runtime==$CUDA_RUNTIME_VERSION nvidia-cuda-cupti==$CUDA_CUPTI_VERSION"

# The CUDA libraries of TORCH_CUDA=1 builds, in a directory (and stamp) of their own.
install_cuda() {
    local cuda=$target/cuda
    if [ "${TORCH_CUDA:-0}" != 1 ] || [ "$(cat "$cuda/.installed" 2>/dev/null)" = "$TORCH_CUDA_PACKAGES" ]; then
        return 0
    fi
    echo "installing the CUDA libraries of libtorch (TORCH_CUDA=1, several GB) into $cuda"
    rm -rf "$cuda"
    # shellcheck disable=SC2086
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
        --target "$cuda" $TORCH_CUDA_PACKAGES
    for file in $cuda/nvidia/cu13/lib/libcublas.so.13 $cuda/nvidia/cudnn/lib/libcudnn.so.9 \
        $cuda/nvidia/nccl/lib/libnccl.so.2; do
        if [ ! -f "$file" ]; then
            echo "the CUDA wheels have no $file" >&2
            exit 1
        fi
    done
    echo "$TORCH_CUDA_PACKAGES" >"$cuda/.installed"
}

python=.venv/bin/python
[ -x "$python" ] || python=python3
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    install_cuda
    exit 0
fi

echo "installing libtorch $TORCH_VERSION (the torch wheel, ~527 MB, without the CUDA stack) into $target"
rm -rf "$target"
# shellcheck disable=SC2086
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    --target "$target" $wanted
lib=$target/torch/lib
for file in $lib/libtorch_cpu.so $lib/libc10.so $lib/libgomp.so.1 \
    $target/nvidia/cu13/lib/libcudart.so.13 $target/nvidia/cu13/lib/libcupti.so.13 \
    $target/torch/include/torch/csrc/jit/api/compilation_unit.h; do
    if [ ! -f "$file" ]; then
        echo "the torch wheels have no $file" >&2
        exit 1
    fi
done
echo "$wanted" >"$stamp"
install_cuda
