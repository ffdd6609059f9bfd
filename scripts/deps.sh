#!/usr/bin/env bash
# Installs, non-interactively, only the Debian packages the build and the
# tests need that are not installed yet. Called by every Makefile target.
set -eu

pkgs=(
  build-essential cmake pkg-config
  libuv1-dev libcurl4-openssl-dev libyaml-dev libcjson-dev
  libmicrohttpd-dev libcmocka-dev
  curl jq valgrind cppcheck clang-tidy shellcheck
  scdoc dpkg-dev systemd man-db git python3 python3-jsonschema python3-yaml
  clang libclang-rt-14-dev
  nghttp2-proxy openssl
)
# nghttp2-proxy gives nghttpx, the TLS + HTTP/2 front of the https test runs
# and of the WAN benchmark (CP_TRANSPORT=https, docs/testing.md); openssl
# makes their CA at test time.

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The tests run nghttpx themselves; the service the package enables (a
# plain proxy on 127.0.0.1:3000) is not wanted. Only when this script
# installed the package, so an nghttpx set up before is left alone.
for p in "${missing[@]}"; do
  if [ "$p" = nghttp2-proxy ] && command -v systemctl >/dev/null; then
    $sudo systemctl disable --now nghttpx.service >/dev/null 2>&1 || true
  fi
done
