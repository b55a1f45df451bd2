#!/usr/bin/env bash
# Builds everything the single-node test cluster (local/src/cluster/) runs, once, cached by version
# in $CHORUS_CACHE_DIR (default ~/.cache/chorus):
#   kubernetes-<v>/   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
#                     (one `go build`, version-stamped at link time)
#   coredns-<v>/      a slim CoreDNS (no forward plugin: no upstream DNS)
#   pause-<v>/        Kubernetes' own pause.c, static
#   images/*.tar      OCI archives: pause, coredns, nats, redis, ferretdb, jaeger (when built), and the Chorus image
#                     (the Dockerfile built by buildah; cached by a hash of its inputs)
# Needs the apt packages of `scripts/bootstrap.sh cluster` (which calls this script), root for the
# Chorus image (buildah), and nats-server/ferretdb/etcd from the other bootstrap parts.
# Usage: scripts/build-cluster.sh [binaries] [images] [chorus]   (no argument = all three)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/versions.env"
cache="${CHORUS_CACHE_DIR:-$HOME/.cache/chorus}"
log() { printf '[build-cluster] %s %s\n' "$(date +%T)" "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(binaries images chorus)
has() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
mkdir -p "$cache/images"

# ---- Kubernetes: all five binaries in one go build (shared packages compile once) ----
k8s_build() {
  local out="$cache/kubernetes-$KUBERNETES_VERSION"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy) c ok=1
  for c in "${cmds[@]}"; do [ -x "$out/$c" ] || ok=0; done
  [ $ok = 1 ] && return 0
  log "building ${cmds[*]} $KUBERNETES_VERSION (one time; minutes on 2 cores)"
  local work; work="$(mktemp -d)"
  # Same wrapper module as scripts/build-kube-apiserver.sh (same flags, so its Go build cache is reused).
  source "$root/scripts/kubernetes-wrapper-module.sh"
  kubernetes_wrapper_module "$work" k8s.io/kubernetes "$KUBERNETES_VERSION"
  local pkgs=(); for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && { go mod tidy >/dev/null 2>&1 || true; } && { go get "${pkgs[@]/%/@$KUBERNETES_VERSION}" >/dev/null 2>&1 || true; })
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  (cd "$work" && go build -ldflags "$(kubernetes_version_ldflags "$KUBERNETES_VERSION")" -o "$out.tmp/" "${pkgs[@]}")
  rm -rf "$work"; mv "$out.tmp" "$out"
  "$out/kubelet" --version >&2
}

# ---- CoreDNS: our own main with only the plugins a one-node cluster needs ----
coredns_build() {
  local out="$cache/coredns-$COREDNS_VERSION"
  [ -x "$out/coredns" ] && return 0
  log "building a slim CoreDNS $COREDNS_VERSION (one time)"
  local work; work="$(mktemp -d)"
  local kv="${KUBERNETES_VERSION/#v1./v0.}"
  cp "$root/scripts/cluster/coredns-main.go" "$work/main.go"
  printf 'module chorus.local/coredns-slim\n\ngo 1.24\n\nrequire (\n\tgithub.com/coredns/coredns %s\n\tk8s.io/api %s\n\tk8s.io/apimachinery %s\n\tk8s.io/client-go %s\n)\n' \
    "$COREDNS_VERSION" "$kv" "$kv" "$kv" > "$work/go.mod"
  (cd "$work" && go mod tidy >&2)
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/coredns" .)
  rm -rf "$work"; mv "$out.tmp" "$out"
}

# ---- pause: Kubernetes' own build/pause/linux/pause.c (in the k8s.io/kubernetes module zip) ----
pause_build() {
  local out="$cache/pause-$PAUSE_VERSION"
  [ -x "$out/pause" ] && return 0
  local src; src="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | jq -r .Dir)/build/pause/linux/pause.c"
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  gcc -Os -static -DVERSION="$PAUSE_VERSION-chorus" -o "$out.tmp/pause" "$src"
  mv "$out.tmp" "$out"
}

if has binaries; then k8s_build; coredns_build; pause_build; fi

# ---- images from binaries the project already has ----
mkimage="$root/scripts/cluster/mkimage.sh"
image_from_binaries() { # tar name config-json user-line files...
  local tar="$cache/images/$1" name="$2" cfg="$3" user="$4"; shift 4
  [ -f "$tar" ] && return 0
  local r; r="$(mktemp -d)"
  "$root/scripts/cluster/rootfs-from-binaries.sh" "$r" "$user" "$@"
  "$mkimage" "$r" "$name" "$tar.tmp" "$cfg"
  rm -rf "$r"; mv "$tar.tmp" "$tar"
}
redis_version() { dpkg-query -W -f '${Version}' redis-server | sed 's/^[0-9]*://; s/-.*//'; }
if has images; then
  image_from_binaries "pause-$PAUSE_VERSION.tar" "localhost/pause:$PAUSE_VERSION" \
    '{"Entrypoint":["/pause"],"User":"65535:65535"}' "" "$cache/pause-$PAUSE_VERSION/pause:/pause"
  image_from_binaries "coredns-$COREDNS_VERSION.tar" "localhost/coredns:${COREDNS_VERSION#v}" \
    '{"Entrypoint":["/coredns"]}' "nonroot:x:65532:65532" "$cache/coredns-$COREDNS_VERSION/coredns:/coredns"
  # The operator runs `nats-server` with args only (--config ...): the entry point is the binary.
  image_from_binaries "nats-$NATS_SERVER_VERSION.tar" "localhost/nats:${NATS_SERVER_VERSION#v}" \
    '{"Entrypoint":["/usr/local/bin/nats-server"]}' "nats:x:1000:1000" \
    "$cache/nats-server-$NATS_SERVER_VERSION/nats-server:/usr/local/bin/nats-server"
  # The operator's args start with `redis-server`, and its probe runs `redis-cli ping`: both on PATH.
  image_from_binaries "redis-$(redis_version).tar" "localhost/redis:$(redis_version)" \
    '{"Env":["PATH=/usr/bin:/bin"],"WorkingDir":"/data"}' "redis:x:999:999" \
    /usr/bin/redis-server:/usr/bin/redis-server /usr/bin/redis-cli:/usr/bin/redis-cli
  image_from_binaries "ferretdb-$FERRETDB_VERSION.tar" "localhost/ferretdb:${FERRETDB_VERSION#v}" \
    '{"Entrypoint":["/ferretdb"]}' "ferretdb:x:1000:1000" "$cache/ferretdb-$FERRETDB_VERSION/ferretdb:/ferretdb"
  # The chart's optional tracing UI; its configuration comes from the chart (a ConfigMap).
  if [ -x "$cache/jaeger-$JAEGER_VERSION/jaeger" ]; then
    image_from_binaries "jaeger-$JAEGER_VERSION.tar" "localhost/jaeger:${JAEGER_VERSION#v}" \
      '{"Entrypoint":["/jaeger"]}' "jaeger:x:10001:10001" "$cache/jaeger-$JAEGER_VERSION/jaeger:/jaeger"
  fi
fi
if has chorus; then "$root/scripts/cluster/build-chorus-image.sh"; fi
log "done"
