#!/usr/bin/env bash
# The Chorus image for the test cluster, built from the project's unchanged Dockerfile with
# Debian's buildah (daemonless, no registry) on a local stand-in for node:20-bookworm-slim
# (debootstrap minbase + the host's Node.js). Cached in $CHORUS_CACHE_DIR/images/chorus-<hash>.tar,
# where <hash> covers the Dockerfile, every file of its build context and the base image, so an
# unchanged tree is never rebuilt. The image is localhost/chorus:dev-<hash>.
# Usage: build-chorus-image.sh          build if needed; print the image name
#        build-chorus-image.sh --name   only print the name the current tree's image has
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${CHORUS_CACHE_DIR:-$HOME/.cache/chorus}"
images="$cache/images"; mkdir -p "$images"
log() { printf '[chorus-image] %s %s\n' "$(date +%T)" "$*" >&2; }
node_version="$(node -v)"
base_tar="$images/node-base-$node_version.tar"

# The build context as .dockerignore leaves it (sources and manifests; no tests, docs, dist).
context_hash() {
  (cd "$root" && git ls-files -co --exclude-standard -- Dockerfile package.json package-lock.json \
      tsconfig.base.json tsconfig.json shared local gateway message-service operator loadtest e2e/package.json \
    | grep -Ev '(^|/)(test|dist|node_modules)/|\.md$' | sort | xargs -d '\n' sha256sum
   echo "base $node_version") | sha256sum | cut -c1-12
}
hash="$(context_hash)"
name="localhost/chorus:dev-$hash"
tar="$images/chorus-$hash.tar"
if [ "${1:-}" = --name ]; then echo "$name"; exit 0; fi
if [ -f "$tar" ]; then echo "$name"; exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "building the Chorus image needs root (buildah)" >&2; exit 1; }

# One buildah at a time on this machine (worktrees share the cache).
exec 9>"$cache/buildah.lock"; flock 9

if [ ! -f "$base_tar" ]; then
  rootfs="$cache/bookworm-minbase"
  if [ ! -x "$rootfs/bin/sh" ]; then
    mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
    [ -n "$mirror" ] || mirror="$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)"
    log "debootstrap --variant=minbase bookworm from $mirror (one time)"
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase bookworm "$rootfs.tmp" "$mirror" >/dev/null
    mv "$rootfs.tmp" "$rootfs"
  fi
  b="$(mktemp -d)"; cp -a "$rootfs/." "$b/"
  cp /usr/bin/node "$b/usr/local/bin/node"
  mkdir -p "$b/usr/local/lib/node_modules"
  cp -a /usr/lib/node_modules/npm "$b/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$b/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$b/usr/local/bin/npx"
  # The Dockerfile's `npm ci` reaches the registry the way the host does: with the host's CA bundle
  # (machines here may sit behind a TLS-inspecting proxy).
  mkdir -p "$b/etc/ssl/certs" "$b/usr/local/etc"
  cp /etc/ssl/certs/ca-certificates.crt "$b/etc/ssl/certs/ca-certificates.crt"
  echo "cafile=/etc/ssl/certs/ca-certificates.crt" > "$b/usr/local/etc/npmrc"
  chroot "$b" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  rm -rf "$b"/var/cache/apt/archives/*.deb "$b"/var/lib/apt/lists/* "$b"/var/log/* "$b"/tmp/*
  "$root/scripts/cluster/mkimage.sh" "$b" localhost/node:20-bookworm-slim "$base_tar.tmp" \
    "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NODE_VERSION=${node_version#v}\"],\"Cmd\":[\"node\"]}"
  rm -rf "$b"; mv "$base_tar.tmp" "$base_tar"
fi

# buildah keeps its state in the cache (layers are reused by the next build); cgroupfs: no systemd.
state="$cache/buildah"; mkdir -p "$state/cni"
cat > "$state/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
[network]
network_config_dir = "$state/cni"
CONF
export CONTAINERS_CONF="$state/containers.conf"
B=(buildah --root "$state/root" --runroot "$state/run" --storage-driver overlay)
had_cache=0; [ -e /var/lib/containers ] && had_cache=1
had_runc=0; [ -e /run/runc ] && had_runc=1
cleanup() {
  # containers/image's blob-info cache and runc's state dir are fixed paths: remove them if we made them.
  [ "$had_cache" = 1 ] || rm -rf /var/lib/containers
  [ "$had_runc" = 1 ] || rm -rf /run/runc
  # buildah's overlay mounts must not outlive the build.
  grep -o " $state/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}
trap cleanup EXIT
"${B[@]}" pull -q "oci-archive:$base_tar" >/dev/null
log "buildah bud $root/Dockerfile -> $name"
start=$(date +%s)
# RUN steps use the host network (npm ci against the registry); the image pulls nothing.
"${B[@]}" bud --quiet --pull-never --network host --isolation oci --layers \
  --build-arg NODE_IMAGE=localhost/node:20-bookworm-slim -t "$name" -f "$root/Dockerfile" "$root" >&2
"${B[@]}" push -q "$name" "oci-archive:$tar.tmp:$name" >&2
mv "$tar.tmp" "$tar"
# Keep the three newest Chorus images (other worktrees share the cache); drop older ones.
ls -t "$images"/chorus-*.tar | tail -n +4 | xargs -r rm -f
"${B[@]}" rmi -q "$name" >/dev/null 2>&1 || true
log "built in $(( $(date +%s) - start ))s"
echo "$name"
