#!/usr/bin/env bash
# Cross-builds talk (and relay, gateway) for a Raspberry Pi running 64-bit
# Raspberry Pi OS / Debian arm64: `make pi` → bin/arm64/. cgo is needed
# (libopus through hraban/opus, miniaudio through malgo), so this uses
# Debian's cross compiler and the arm64 libopus from multiarch:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y gcc-aarch64-linux-gnu libopus-dev:arm64
# (run as root; the script installs them itself when they are missing and
# it is root). libopusfile is not needed: the build uses the nolibopusfile tag.
set -euo pipefail
: "${GO:=go}" "${OUT:=bin/arm64}" "${PKGS:=./cmd/talk ./cmd/relay ./cmd/gateway}"

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/lib/aarch64-linux-gnu/pkgconfig/opus.pc ] || need+=(libopus-dev:arm64)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "pi.sh: missing ${need[*]}; as root run:" >&2
    echo "  dpkg --add-architecture arm64 && apt-get update && apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "pi.sh: installing ${need[*]}" >&2
  dpkg --add-architecture arm64
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

mkdir -p "$OUT"
export CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc
# pkg-config must find the arm64 libopus, not the build machine's.
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_PATH=
for p in $PKGS; do
  [ -d "$p" ] || { echo "pi.sh: skipping $p (not in this tree)" >&2; continue; }
  "$GO" build -trimpath -tags nolibopusfile -ldflags "-s -w" -o "$OUT/" "$p"
done
file "$OUT"/*
