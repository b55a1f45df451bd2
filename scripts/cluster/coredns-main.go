// A slim CoreDNS for the test cluster (scripts/build-cluster.sh): only the plugins a one-node
// cluster needs. There is no forward plugin, so no query ever goes upstream; names outside the
// cluster get NXDOMAIN from template. (The stock main also compiles the cloud DNS plugins.)
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

// Plugin order in a server block (CoreDNS's plugin.cfg order), except that template runs after
// kubernetes so it answers only what kubernetes passed on.
func init() {
	dnsserver.Directives = []string{
		"reload", "ready", "health", "prometheus", "errors", "log", "loadbalance", "cache",
		"kubernetes", "template", "loop",
	}
}

func main() { coremain.Run() }
