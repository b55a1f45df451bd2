#!/usr/bin/env bash
# Lists whatever the test cluster left on this host; prints nothing and exits 0 when clean.
source "$(dirname "$0")/env.sh"
{
  [ -e "$C" ] && echo "folder $C"
  # Daemons name $C in their arguments; the shims name our containerd socket.
  pgrep -af -- "$C/" | grep -v -e check-clean -e pgrep
  ip -o link show "$BRIDGE" 2>/dev/null | cut -c1-80
  grep -E " ($C/|/run/netns/cni-|/run/containerd/)" /proc/self/mountinfo | cut -d' ' -f5
  for ipt in iptables-nft ip6tables-nft; do $ipt-save 2>/dev/null | grep -E '^(:|-A).*(KUBE|CNI|CHORUS)'; done
  nft list tables 2>/dev/null | grep kube
  ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/k8s.io /var/lib/kubelet /var/log/containers \
    /run/netns /run/containerd /var/lib/cni 2>/dev/null
} | sed '/^$/d' | { out="$(cat)"; [ -z "$out" ] || { printf 'left over:\n%s\n' "$out"; exit 1; }; }
