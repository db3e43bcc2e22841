#!/usr/bin/env bash
# Builds CPython with profile-guided optimisation and link-time optimisation
# (--enable-optimizations --with-lto, as Debian's python3 packages and the
# official Docker images are built; pyenv's default build is neither) and a
# virtualenv of requirements.txt on it, for the benchmarks:
#
#   bench/build_python.sh                 # ~20 min on 2 cores, once
#   BENCH_VENV=var/bench-venv-pgo flock /tmp/bench.lock bench/certificates/bench_verify.sh
#
# Env: PYTHON_SOURCE_URL [Debian's copy of the release tarball; python.org is not
#      reachable from every build machine] — the SHA-256 below pins the file whatever
#      its source. PYTHON_PGO_PREFIX [var/python-<version>-pgo]
#      BENCH_VENV [var/bench-venv-pgo]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VERSION=3.13.5
SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
URL=${PYTHON_SOURCE_URL:-http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_${VERSION}.orig.tar.xz}
PREFIX=${PYTHON_PGO_PREFIX:-$ROOT/var/python-$VERSION-pgo}
VENV=${BENCH_VENV:-$ROOT/var/bench-venv-pgo}
PYTHON="$PREFIX/bin/python${VERSION%.*}"

say() { printf '[build_python] %s\n' "$*"; }

if [ ! -x "$PYTHON" ]; then
    # The modules Django, psycopg, Pillow and pip need (ssl, ctypes, sqlite3, lzma...).
    packages=(build-essential libssl-dev libffi-dev zlib1g-dev libsqlite3-dev libbz2-dev
        liblzma-dev libreadline-dev uuid-dev)
    missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        sudo_=""
        [ "$(id -u)" = 0 ] || sudo_=sudo
        $sudo_ apt-get install -y "${missing[@]}" >/dev/null
    fi
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    say "downloading $URL"
    curl -fsSL -o "$work/python.tar.xz" "$URL"
    echo "$SHA256  $work/python.tar.xz" | sha256sum -c --quiet - \
        || { echo "[build_python] SHA-256 mismatch for $URL" >&2; exit 1; }
    tar -xf "$work/python.tar.xz" -C "$work"
    say "building CPython $VERSION with PGO + LTO into $PREFIX (about 20 minutes on 2 cores)"
    (
        cd "$work/Python-$VERSION"
        ./configure -q --prefix="$PREFIX" --enable-optimizations --with-lto >"$work/configure.log"
        make -j"$(nproc)" -s >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
        make -s altinstall >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
    )
fi
"$PYTHON" -c "import ctypes, lzma, sqlite3, ssl, sysconfig
args = sysconfig.get_config_var('CONFIG_ARGS')
assert '--enable-optimizations' in args and '--with-lto' in args, args"

if [ ! -x "$VENV/bin/gunicorn" ]; then
    say "virtualenv $VENV from requirements.txt"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q -r requirements.txt
fi
say "ready: BENCH_VENV=$VENV"
