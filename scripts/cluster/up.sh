#!/usr/bin/env bash
# Starts the single-node test cluster (as root): containerd + runc + CNI from Debian, etcd and the
# Kubernetes binaries from scripts/build-cluster.sh, CoreDNS, local PersistentVolumes.
#   up.sh IMAGE.tar...   the OCI archives to import (pause and coredns are always imported)
# Listens on 127.0.0.1 and the bridge address 10.88.0.1 only; pod traffic cannot leave the
# bridge (no masquerade, a DROP rule for forwarding elsewhere); pulls go to 127.0.0.1:1.
# Every daemon's PID goes to $C/run/<name>.pid and its log to $C/logs/<name>.log; down.sh undoes
# all of it, also after a failed start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; source "$here/env.sh"
[ "$(id -u)" -eq 0 ] || { echo "[up] the test cluster needs root" >&2; exit 2; }
# Left over by a run that was killed (no daemon of it alive): clean it up first.
if [ -d "$C/run" ]; then
  alive=0
  for f in "$C"/run/*.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1; done
  if [ $alive = 1 ]; then
    echo "[up] another test cluster runs on this machine ($C); stop it with scripts/cluster/down.sh" >&2
    exit 3
  fi
  echo "[up] removing the remains of a previous run in $C" >&2
  "$here/down.sh"
fi
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  echo "[up] another test cluster runs on this machine: bridge $BRIDGE exists (not ours: $C has no run state)" >&2
  exit 3
fi
mkdir -p "$C"/{run,logs,data,etc/cni/net.d,data/pv}
cd "$C"
t0=$(date +%s%N)
stamp() { printf '[up] %6.1fs %s\n' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3" "$*" >&2; }
start() { # name command...: a daemon in its own session, PID recorded
  local name="$1"; shift
  setsid "$@" > "logs/$name.log" 2>&1 < /dev/null &
  echo $! > "run/$name.pid"
}
wait_for() { # what timeout-seconds command...
  local what="$1" limit="$2"; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "[up] timed out after ${limit}s waiting for $what; logs in $C/logs" >&2; return 1
    fi
    sleep 0.2
  done
}
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  [ -x "$K8S_BIN/$b" ] || { echo "[up] $K8S_BIN/$b missing: run scripts/build-cluster.sh" >&2; exit 4; }
done
"$here/pki.sh"
P="$C/pki"

# --- host settings: originals saved first (down.sh restores them); the kubelet changes the last ones ---
sysctls=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables vm.overcommit_memory vm.panic_on_oom
  kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.conf.all.route_localnet)
for s in "${sysctls[@]}"; do echo "$s=$(sysctl -n "$s")"; done > run/sysctl.orig
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

# --- the pod bridge, before the API server: its address is the node IP the API server advertises ---
ip link add "$BRIDGE" type bridge
ip addr add "$NODE_IP/16" dev "$BRIDGE"
ip link set "$BRIDGE" up
# Nothing a pod sends may leave the machine: drop whatever the bridge would forward elsewhere.
# First rule: a Service IP that kube-proxy has not programmed yet (a pod dialling a Service
# created a moment ago) would follow the default route; counted apart, as it is the cluster's own
# address. Second rule: anything else, whose counter must stay 0.
iptables -N CHORUS-ISOLATE
iptables -A CHORUS-ISOLATE -i "$BRIDGE" ! -o "$BRIDGE" -d "$SERVICE_CIDR" -j DROP
iptables -A CHORUS-ISOLATE -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
iptables -I FORWARD 1 -j CHORUS-ISOLATE
cat > etc/cni/net.d/10-chorus.conflist <<JSON
{
  "cniVersion": "1.0.0",
  "name": "chorus-pods",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$C/data/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "rangeStart": "10.88.1.0", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
echo "nameserver 127.0.0.1" > etc/resolv.conf   # pods with dnsPolicy Default: no upstream DNS at all
stamp "host network ready"

# --- containerd: everything under $C except the shim sockets (1.6 hard-codes /run/containerd/s) ---
for reg in _default docker.io registry.k8s.io ghcr.io quay.io; do
  mkdir -p "etc/certs.d/$reg"
  printf 'server = "http://127.0.0.1:1"\n[host."http://127.0.0.1:1"]\n  capabilities = ["pull", "resolve"]\n' > "etc/certs.d/$reg/hosts.toml"
done
cat > etc/containerd.toml <<TOML
version = 2
root = "$C/data/containerd"
state = "$C/run/containerd"
# No CAP_SYS_RESOURCE on these VMs: negative OOM scores are refused (pause wants -998 and fails
# to start), so containerd keeps 0 and clamps every container's score to it.
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/data/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:$PAUSE_VERSION"
  enable_selinux = false
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$C/run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$C/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    # Any pull goes to loopback: images are imported, never pulled.
    config_path = "$C/etc/certs.d"
TOML
start containerd containerd --config "$C/etc/containerd.toml"
wait_for containerd 30 ctr version
for tar in "$cache/images/pause-$PAUSE_VERSION.tar" "$cache/images/coredns-$COREDNS_VERSION.tar" "$@"; do
  ctr images import "$tar" >/dev/null
done
stamp "containerd up, $(( $# + 2 )) images imported"

# --- etcd (tmp data, no fsync: a test cluster) ---
start etcd "$ETCD_BIN" --name default --data-dir "$C/data/etcd" \
  --listen-client-urls "$ETCD_CLIENT" --advertise-client-urls "$ETCD_CLIENT" \
  --listen-peer-urls "$ETCD_PEER" --initial-advertise-peer-urls "$ETCD_PEER" \
  --initial-cluster "default=$ETCD_PEER" --unsafe-no-fsync --log-level warn
wait_for etcd 30 curl -sf "$ETCD_CLIENT/health"
stamp "etcd up"

# --- control plane; the API server binds and advertises the bridge address (pods reach it
#     through the kubernetes Service, whose endpoint is the advertised address) ---
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers="$ETCD_CLIENT" \
  --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --allow-privileged=true --profiling=false --v=1
wait_for kube-apiserver 90 kubectl get --raw /readyz
stamp "kube-apiserver ready"
start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$P/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$P/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$P/controller-manager.kubeconfig" \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --cluster-name=chorus-test \
  --flex-volume-plugin-dir="$C/data/kubelet-plugins" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$P/scheduler.kubeconfig" \
  --authentication-kubeconfig="$P/scheduler.kubeconfig" \
  --authorization-kubeconfig="$P/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1

# --- node ---
cat > etc/kubelet.yaml <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs          # no systemd on these VMs
failSwapOn: false
failCgroupV1: false             # cgroup v1 (hybrid) hosts
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_SVC_IP]
resolvConf: $C/etc/resolv.conf
rotateCertificates: false
serverTLSBootstrap: false
# Imported images cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# Keep the kubelet's files under $C (the defaults are /usr/libexec/kubernetes and /var/log/pods).
volumePluginDir: $C/data/kubelet-plugins
podLogsDir: $C/data/pod-logs
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
maxPods: 60
YAML
start kubelet "$K8S_BIN/kubelet" --config="$C/etc/kubelet.yaml" --kubeconfig="$P/kubelet.kubeconfig" \
  --root-dir="$C/data/kubelet" --cert-dir="$C/data/kubelet/pki" --node-ip="$NODE_IP" \
  --hostname-override="$NODE_NAME" --v=1
cat > etc/kube-proxy.yaml <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $P/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts answer on the bridge address only (never on eth0), and not on 127.0.0.1 (route_localnet).
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false, minSyncPeriod: 1s}
# 0 = leave the host's conntrack sysctls alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
start kube-proxy "$K8S_BIN/kube-proxy" --config="$C/etc/kube-proxy.yaml" --v=1
wait_for "node Ready" 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
stamp "node $NODE_NAME Ready"

# --- cluster DNS and storage ---
sed "s|@COREDNS_IMAGE@|localhost/coredns:${COREDNS_VERSION#v}|; s|@DNS_SVC_IP@|$DNS_SVC_IP|" \
  "$root/scripts/cluster/coredns.yaml" | kubectl apply -f - >/dev/null
# No provisioner: a default StorageClass with hand-made local volumes (folders under $C/data/pv).
# local (not hostPath) volumes honour fsGroup, so non-root NATS can write its JetStream files.
{
  printf 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: chorus-local\n'
  printf '  annotations: {storageclass.kubernetes.io/is-default-class: "true"}\n'
  printf 'provisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\nreclaimPolicy: Delete\n'
  for i in $(seq 0 $(( ${CHORUS_CLUSTER_VOLUMES:-12} - 1 ))); do
    mkdir -p "$C/data/pv/pv-$i"
    printf -- '---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: chorus-local-%s}\nspec:\n' "$i"
    printf '  capacity: {storage: 5Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: chorus-local\n'
    printf '  persistentVolumeReclaimPolicy: Retain\n  local: {path: %s}\n' "$C/data/pv/pv-$i"
    printf '  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [%s]}]}]}}\n' "$NODE_NAME"
  done
} | kubectl apply -f - >/dev/null
wait_for "CoreDNS" 120 kubectl -n kube-system rollout status deploy/coredns --timeout=2s
stamp "CoreDNS available; cluster up (KUBECONFIG=$KUBECONFIG)"
