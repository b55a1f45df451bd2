# Sourced by build-kube-apiserver.sh and build-cluster.sh: the envtest way to build from a module
# that uses relative replaces (k8s.io/kubernetes, etcd). A throwaway module requires it and maps
# every `=> ./staging/...` replace in its go.mod to the published module of the same release.

kubernetes_wrapper_module() { # work-dir main-module version
  local work="$1" module="$2" version="$3" gomod
  gomod="$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module chorus.local/build-$(basename "$module")"
    echo "go 1.24"
    echo "require $module $version"
    awk -v ver="$version" '
      /=> \.\.?\// && !/FORBIDDEN/ {
        mod=$1; if (mod=="replace") mod=$2
        if (mod ~ /^k8s\.io\//) { v=ver; sub(/^v1\./, "v0.", v) } else { v=ver }
        print "replace " mod " => " mod " " v
      }' "$gomod"
  } > "$work/go.mod"
  echo 'package tools' > "$work/tools.go"
}

# Link-time version stamp (the compile cache is unaffected). Without it every binary reports
# v0.0.0-master+$Format:%H$, which `kubectl version`, the node's kubeletVersion and Helm's
# kubeVersion checks all see.
kubernetes_version_ldflags() { # version (v1.N.M)
  local version="$1" minor p ld=""
  minor="${version#v1.}"; minor="${minor%%.*}"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$ld"
}
