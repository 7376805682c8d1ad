#!/usr/bin/env bash
# The parser installs as a library a project can use: installs BUILD_DIR
# into a temporary prefix, then builds tests/install/consumer.c twice,
# through the CMake package (find_package(pop3parse)) and through
# pkg-config, and runs both.
#   bash tests/install-check.sh BUILD_DIR   (a build without sanitizers)
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --component parser --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/install" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
"$tmp/cmake/consumer"
# shellcheck disable=SC2046
cc -o "$tmp/pc-consumer" "$src/install/consumer.c" \
  $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs pop3parse)
"$tmp/pc-consumer"
echo "install-check: find_package(pop3parse) and pkg-config pop3parse both work"
