#!/usr/bin/env bash
# Builds kube-apiserver (and etcd) from Go modules, the envtest way: a throwaway module that
# requires k8s.io/kubernetes and maps every staging module to its published v0.x version.
# Cached in $CHORUS_CACHE_DIR/kube-apiserver-<version>; the first build takes several minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/versions.env"
cache="${CHORUS_CACHE_DIR:-$HOME/.cache/chorus}"
log() { printf '[kube-apiserver] %s\n' "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
source "$root/scripts/kubernetes-wrapper-module.sh"

build_with_replaces() { # binary-name out-dir main-module version package [ldflags]
  local name="$1" out="$2" module="$3" version="$4" pkg="$5" ldflags="${6:-}"
  if [ -x "$out/$name" ]; then
    # A kube-apiserver from before the link-time version stamp reports v0.0.0-master (Helm's
    # kubeVersion check refuses it): re-link it, which reuses the warm compile cache.
    [ -z "$ldflags" ] && return 0
    "$out/$name" --version 2>/dev/null | grep -qx "Kubernetes $version" && return 0
  fi
  log "building $name ($module $version), one time; this takes minutes on 2 cores"
  local work; work="$(mktemp -d)"
  kubernetes_wrapper_module "$work" "$module" "$version"
  (cd "$work" && go mod tidy >/dev/null 2>&1 || true; go get "$pkg@$version" >/dev/null 2>&1 || true)
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  (cd "$work" && go build -ldflags "$ldflags" -o "$out.tmp/$name" "$pkg")
  # Over an existing binary: an atomic rename, so a test starting meanwhile finds one or the other.
  if [ -d "$out" ]; then mv -f "$out.tmp/$name" "$out/$name" && rmdir "$out.tmp"; else mv "$out.tmp" "$out"; fi
  rm -rf "$work"
}

build_with_replaces kube-apiserver "$cache/kube-apiserver-$KUBERNETES_VERSION" \
  k8s.io/kubernetes "$KUBERNETES_VERSION" k8s.io/kubernetes/cmd/kube-apiserver \
  "$(kubernetes_version_ldflags "$KUBERNETES_VERSION")"
build_with_replaces etcd "$cache/etcd-$ETCD_VERSION" \
  go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
