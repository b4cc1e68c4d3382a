#!/usr/bin/env bash
# Entry point of the CI image (docker/Dockerfile.ci): links the preinstalled .venv and .build into
# the checkout (the current directory) when it has none, then runs the command (.ci/run).
set -euo pipefail
for dir in .venv .build; do
    if [ ! -e "$dir" ]; then
        ln -s "/opt/redisai-ci/$dir" "$dir"
    fi
done
exec "$@"
