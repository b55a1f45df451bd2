#!/usr/bin/env bash
# Turns a root filesystem folder into a one-layer OCI image archive that `ctr images import`
# accepts (and `buildah pull oci-archive:`). No registry and no image tool: tar, sha256sum, jq.
# Reproducible: sorted entries, fixed mtimes and creation date, so equal inputs give equal digests.
# Usage: mkimage.sh ROOTFS NAME OUT.tar [CONFIG_JSON]   e.g. NAME=localhost/pause:3.10
set -euo pipefail
rootfs="$1" name="$2" out="$3" cfg="${4:-{\}}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
blobs="$work/blobs/sha256"; mkdir -p "$blobs"
blob() { # file -> moves it into blobs/, prints "<sha> <size>"
  local sha size; sha="$(sha256sum "$1" | cut -d' ' -f1)"; size="$(stat -c %s "$1")"
  mv "$1" "$blobs/$sha"; echo "$sha $size"
}
tar --sort=name --mtime=@0 --numeric-owner -C "$rootfs" -cf "$work/layer.tar" .
read -r layer layer_size < <(blob "$work/layer.tar")
jq -cn --argjson c "$cfg" --arg d "sha256:$layer" \
  '{architecture:"amd64",os:"linux",created:"1970-01-01T00:00:00Z",config:$c,
    rootfs:{type:"layers",diff_ids:[$d]},history:[{created:"1970-01-01T00:00:00Z",created_by:"scripts/cluster/mkimage.sh"}]}' \
  > "$work/config.json"
read -r config config_size < <(blob "$work/config.json")
jq -cn --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" \
  '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
    layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$l,size:$ls}]}' > "$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")
# io.containerd.image.name is the full name `ctr import` gives the image; ref.name is the tag.
jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg n "$name" \
  '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",
    manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$m,size:$ms,
      platform:{architecture:"amd64",os:"linux"},
      annotations:{"io.containerd.image.name":$n,"org.opencontainers.image.ref.name":($n|sub("^.*:";""))}}]}' \
  > "$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out" oci-layout index.json blobs
echo "[mkimage] $name: $((layer_size / 1024)) KiB" >&2
