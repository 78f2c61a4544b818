#!/bin/sh
# install-deps.sh [PKG...]: install what berth's build, demo and tests need from
# Debian, skipping what is already installed. Needs root.
set -eu
pkgs="busybox-static libseccomp-dev libc6-dev pkg-config jq iproute2 gcc make git strace util-linux uidmap $*"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
