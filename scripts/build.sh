#!/usr/bin/env bash
# Builds ./bisonsync with its version and commit stamped in (bisonsync --version shows them).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "")
go build -ldflags "-X main.version=${version} -X main.commit=${commit}" -o bisonsync .
./bisonsync --version
