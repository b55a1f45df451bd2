#!/usr/bin/env bash
# Tears the test cluster down and undoes every host change up.sh (and the kubelet) made: pods,
# daemons (by recorded PID only), shims, mounts, network namespaces, iptables chains, the bridge,
# cgroups, sysctls, fixed paths; then deletes $C. Safe to run after a failed or partial start, and
# twice. Exit status 0; `check-clean.sh` lists anything left over.
set -uo pipefail
source "$(dirname "$0")/env.sh"
[ -d "$C" ] || { echo "[down] nothing to do ($C does not exist)" >&2; exit 0; }
cd "$C"
t0=$(date +%s%N)
stamp() { printf '[down] %6.1fs %s\n' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3" "$*" >&2; }
stop() { # name: SIGTERM, then SIGKILL after 10 s
  local f="run/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$f"
}
# 1. Let the kubelet tear the pods down (CNI DEL frees IPs and veths) while the API still answers.
#    The controllers stop first, so no deleted pod is replaced (nor re-created by an operator).
stop kube-controller-manager; stop kube-scheduler
if [ -f run/kubelet.pid ] && kubectl get --raw /readyz >/dev/null 2>&1; then
  kubectl delete pod --all -A --wait=false --grace-period=1 >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    [ -z "$(kubectl get pods -A -o name 2>/dev/null)" ] && break; sleep 0.5
  done
  stamp "pods deleted"
fi
# 2. Node and the rest of the control plane.
stop kube-proxy; stop kubelet; stop kube-apiserver; stop etcd
stamp "daemons stopped"
# 3. Containers still running: kill their tasks (which ends their shims), then containerd.
if [ -f run/containerd.pid ] && ctr version >/dev/null 2>&1; then
  for ns in $(ctr namespaces ls -q); do
    for t in $(ctr -n "$ns" tasks ls -q); do ctr -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
    for t in $(ctr -n "$ns" tasks ls -q); do
      for _ in $(seq 1 20); do ctr -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 && break; sleep 0.2; done
    done
    for c in $(ctr -n "$ns" containers ls -q); do ctr -n "$ns" containers delete "$c" >/dev/null 2>&1; done
  done
fi
stop containerd
stamp "containers and containerd stopped"
# Shims of this cluster that outlived containerd (their command line names our socket dir).
for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $C/run/containerd" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
# 4. Mounts under our folders (overlay rootfs, kubelet volumes, netns, shm), deepest first.
for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($C/|/run/netns/cni-|/run/containerd/)" | sort -r); do
  umount -l "$m" 2>/dev/null
done
rm -f /run/netns/cni-* 2>/dev/null
# 5. Network: kube-proxy's rules, CNI's, ours, the kubelet's, the bridge and its veths.
"$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
iptables -D FORWARD -j CHORUS-ISOLATE 2>/dev/null; iptables -F CHORUS-ISOLATE 2>/dev/null; iptables -X CHORUS-ISOLATE 2>/dev/null
drop_chains() { # iptables-command table name-regex: unhook, flush and delete matching chains
  local ipt="$1" t="$2" re="$3" ch
  for ch in $($ipt -t "$t" -S 2>/dev/null | awk -v re="$re" '$1=="-N" && $2 ~ re {print $2}'); do
    $ipt -t "$t" -S | grep -E -- "-j $ch( |\$)" | sed 's/^-A/-D/' | while read -r rule; do eval "$ipt -t $t $rule"; done
    $ipt -t "$t" -F "$ch" 2>/dev/null
  done
  for ch in $($ipt -t "$t" -S 2>/dev/null | awk -v re="$re" '$1=="-N" && $2 ~ re {print $2}'); do $ipt -t "$t" -X "$ch" 2>/dev/null; done
}
for t in nat filter; do drop_chains iptables "$t" '^CNI-'; done
# The kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT; v4 and v6);
# legacy tables only where they already exist (listing one would register it).
for ipt in iptables ip6tables iptables-legacy ip6tables-legacy; do
  tables="filter nat mangle"
  case $ipt in iptables-legacy) tables="$(cat /proc/net/ip_tables_names 2>/dev/null)";;
    ip6tables-legacy) tables="$(cat /proc/net/ip6_tables_names 2>/dev/null)";; esac
  command -v "$ipt" >/dev/null || continue
  for t in $tables; do drop_chains "$ipt" "$t" '^KUBE-'; done
done
ip link del "$BRIDGE" 2>/dev/null
for v in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  ip -d link show "$v" 2>/dev/null | grep -q "master $BRIDGE" && ip link del "$v" 2>/dev/null
done
# 6. Cgroups the kubelet and containerd made (empty by now), deepest first.
find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/kubepods /sys/fs/cgroup/k8s.io \
  -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
# 7. Sysctls back to what they were.
if [ -f run/sysctl.orig ]; then
  while IFS= read -r kv; do sysctl -qw "$kv" 2>/dev/null; done < run/sysctl.orig
fi
# 8. Fixed paths that containerd 1.6, libcni and the kubelet hard-code, then our folder.
rm -rf /run/containerd /var/lib/cni /var/lib/kubelet/device-plugins /var/log/containers
rmdir /var/lib/kubelet /run/netns 2>/dev/null
rm -rf "$C"
stamp "done"
