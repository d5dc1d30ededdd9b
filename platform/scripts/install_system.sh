#!/usr/bin/env bash
# Installs the system packages the platform needs on Debian 12 (bookworm), as root.
# Idempotent: every step checks first and does nothing when the piece is already there.
# pgvector has no bookworm package, so it is built from trixie's Debian source package, reusing the
# archive URIs already configured on the machine (no registry host name is written here).
set -euo pipefail

log() { printf '[install_system] %s\n' "$*"; }

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
APT_PACKAGES=(
  postgresql-${PG_MAJOR} postgresql-${PG_MAJOR}-postgis-3 postgresql-server-dev-${PG_MAJOR}
  redis-server redis-tools gdal-bin chromium build-essential dpkg-dev python3 python3-venv python3-dev curl
)

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
}

install_apt_packages() {
  local missing
  missing=$(missing_packages)
  if [ -z "$missing" ]; then
    log "system packages present"
    return
  fi
  log "installing:" $missing
  apt_update_once
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

trixie_source_list() {
  # A deb-src entry for trixie with the same URIs as the machine's main Debian source.
  local uris
  uris=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
    uris=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  if [ -z "$uris" ]; then
    echo "install_system: cannot find a Debian archive URI in /etc/apt/sources.list.d/debian.sources" >&2
    exit 1
  fi
  cat <<SRC
Types: deb-src
URIs: ${uris}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

install_pgvector() {
  if [ -f "/usr/share/postgresql/${PG_MAJOR}/extension/vector.control" ]; then
    log "pgvector present"
    return
  fi
  log "building pgvector from the trixie source package"
  trixie_source_list > /etc/apt/sources.list.d/astroloc-trixie-src.sources
  apt_updated=0
  apt_update_once
  local build_dir
  build_dir=$(mktemp -d)
  (
    cd "$build_dir"
    apt-get source -qq pgvector
    cd pgvector-*/
    make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
    make -s install PG_CONFIG="$PG_CONFIG"
  )
  rm -rf "$build_dir"
}

install_apt_packages
install_pgvector
log "done"
