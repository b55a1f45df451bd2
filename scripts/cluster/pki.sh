#!/usr/bin/env bash
# PKI and kubeconfigs of one cluster run (openssl only): a CA, the API server's serving certificate
# (SANs: the kubernetes Service IP and the node IP), its client certificate for kubelets (exec,
# logs, port-forward), ServiceAccount signing keys, and static bearer tokens for the admin and every
# component, under the user names the default RBAC bindings and the Node authorizer expect.
set -euo pipefail
source "$(dirname "$0")/env.sh"
pki="$C/pki"; mkdir -p "$pki"; cd "$pki"
[ -f admin.kubeconfig ] && exit 0
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=chorus-test-ca" -keyout ca.key -out ca.crt
sign() { # name subject extensions
  ossl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt"
  rm -f "$1.csr" "$1.ext"
}
sign apiserver "/CN=kube-apiserver" "subjectAltName=IP:$KUBERNETES_SVC_IP,IP:$NODE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
ossl genrsa -out sa.key 2048
ossl rsa -in sa.key -pubout -out sa.pub
tok() { openssl rand -hex 16; }
{
  echo "$(tok),admin,uid-admin,\"system:masters\""
  echo "$(tok),system:kube-controller-manager,uid-kcm"
  echo "$(tok),system:kube-scheduler,uid-scheduler"
  echo "$(tok),system:kube-proxy,uid-proxy"
  echo "$(tok),system:node:$NODE_NAME,uid-node,\"system:nodes\""
} > tokens.csv
chmod 600 tokens.csv ./*.key
kubeconfig() { # file user
  local token; token="$(awk -F, -v u="$2" '$2==u{print $1}' tokens.csv)"
  cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: chorus-test
  cluster: {server: "https://$NODE_IP:6443", certificate-authority-data: $(base64 -w0 ca.crt)}
users:
- name: "$2"
  user: {token: $token}
contexts:
- name: chorus-test
  context: {cluster: chorus-test, user: "$2"}
current-context: chorus-test
YAML
  chmod 600 "$1"
}
kubeconfig controller-manager.kubeconfig system:kube-controller-manager
kubeconfig scheduler.kubeconfig system:kube-scheduler
kubeconfig kube-proxy.kubeconfig system:kube-proxy
kubeconfig kubelet.kubeconfig "system:node:$NODE_NAME"
kubeconfig admin.kubeconfig admin   # last: its presence marks the PKI complete
