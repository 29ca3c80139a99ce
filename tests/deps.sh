#!/bin/bash
# deps.sh -- install what percore's build and tests need on Debian bookworm.
# Run as root (or through sudo). Does nothing when every package is already
# installed, so repeated runs cost a fraction of a second.
#   tests/deps.sh           everything the build and the tests need
#   tests/deps.sh --build   only what building the server needs
set -euo pipefail

BUILD_PKGS=(
    build-essential     # gcc, make
    libxxhash-dev       # keyspace hash
    liburing-dev        # io_uring reactor
    libmimalloc-dev     # allocator (default build)
)

PKGS=(
    "${BUILD_PKGS[@]}"
    libjemalloc-dev     # allocator comparison (bench, ALLOC=jemalloc)
    redis-server        # reference server for differential tests and benchmarks
    redis-tools         # redis-cli, redis-benchmark
    python3-redis       # real-client tests
    python3-pytest
    python3-hiredis
    valgrind            # bench: instructions per request (callgrind)
    gnuplot-nox         # bench: results.png (pngcairo terminal)
    netcat-openbsd
)

if [ "${1:-}" = "--build" ]; then
    PKGS=("${BUILD_PKGS[@]}")
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "deps.sh: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "${missing[@]}"
