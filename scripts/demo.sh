#!/usr/bin/env bash
# make demo: runs the provisioner against the bundled simulator.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
echo "== validate config/examples"
"$build/convex-provisioner" validate config/examples
