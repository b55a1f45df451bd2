# Settings of the single-node test cluster, sourced by up.sh and down.sh. The names, addresses and
# ports are fixed (a bridge, iptables chains, host ports), so one cluster runs per machine.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/versions.env"
cache="${CHORUS_CACHE_DIR:-$HOME/.cache/chorus}"
C="${CHORUS_CLUSTER_DIR:-/var/tmp/chorus-cluster}"   # data, PKI, config, logs, PIDs of this run
K8S_BIN="$cache/kubernetes-$KUBERNETES_VERSION"
ETCD_BIN="$cache/etcd-$ETCD_VERSION/etcd"
KUBECTL_BIN="$cache/kubectl-helm-$KUBECTL_LAYER_VERSION/kubectl"
NODE_NAME=chorus-node
BRIDGE=cni0
POD_CIDR=10.88.0.0/16
NODE_IP=10.88.0.1            # the bridge's address: API server, kubelet and node IP (never eth0)
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
ETCD_CLIENT=http://127.0.0.1:32379
ETCD_PEER=http://127.0.0.1:32380
CONTAINERD_SOCK="$C/run/containerd/containerd.sock"
export CONTAINERD_ADDRESS="$CONTAINERD_SOCK" CONTAINERD_NAMESPACE=k8s.io
export KUBECONFIG="$C/pki/admin.kubeconfig"
kubectl() { "$KUBECTL_BIN" "$@"; }
