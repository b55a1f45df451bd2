#!/usr/bin/env bash
# A minimal root filesystem around host binaries: each SRC:DEST binary, the shared libraries ldd
# lists for it, busybox-static as /bin/sh (probes and `kubectl exec` need a shell), /etc/passwd and
# /etc/group with the image's user, and /tmp, /data.
# Usage: rootfs-from-binaries.sh ROOTFS "user:x:uid:gid"|"" SRC:DEST...
set -euo pipefail
r="$1" user="$2"; shift 2
mkdir -p "$r"/{bin,etc,tmp,data,proc,sys,dev}
chmod 1777 "$r/tmp"
for pair in "$@"; do
  src="${pair%%:*}" dest="${pair#*:}"
  mkdir -p "$r$(dirname "$dest")"; cp -L "$src" "$r$dest"
  # Static binaries make ldd fail ("not a dynamic executable"): nothing to copy then.
  for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*' || true); do
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
done
cp /bin/busybox "$r/bin/busybox"
for app in sh cat ls ps wget nslookup env sleep echo grep id hostname; do ln -sf busybox "$r/bin/$app"; done
{ echo "root:x:0:0:root:/root:/bin/sh"; [ -n "$user" ] && echo "$user:/data:/bin/sh"; } > "$r/etc/passwd"
{ echo "root:x:0:"; [ -n "$user" ] && echo "$(cut -d: -f1 <<<"$user"):x:$(cut -d: -f4 <<<"$user"):"; } > "$r/etc/group"
printf 'hosts: files dns\n' > "$r/etc/nsswitch.conf"
chown "$(cut -d: -f3,4 <<<"${user:-root:x:0:0}")" "$r/data"
