/**
 * What a Helm release put into the cluster, read back the way an administrator checks an
 * uninstall: the release's own manifest (`helm get manifest`) resolved by kubectl into live
 * objects, plus a sweep by the chart's labels over every kind it renders, and Helm's release
 * records (Secrets `sh.helm.release.v1.<release>.v<n>`).
 */
import type { KubeCluster } from './kube-cluster.js';

export interface LiveObject {
  kind: string;
  name: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
}

/** Every kind the chart templates render (templates/, templates/operator/, templates/tests/), and what its Deployments make. */
const namespacedKinds = ['deployments', 'replicasets', 'services', 'serviceaccounts', 'configmaps', 'secrets', 'roles', 'rolebindings', 'poddisruptionbudgets', 'networkpolicies', 'ingresses', 'pods', 'jobs', 'chatclusters'];
const clusterKinds = ['clusterroles', 'clusterrolebindings'];
const chartLabels = 'app.kubernetes.io/managed-by=Helm,app.kubernetes.io/part-of=chorus';

function parseList(json: string): LiveObject[] {
  return (JSON.parse(json).items as { kind: string; metadata: { name: string; namespace?: string } }[]).map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
    namespace: o.metadata.namespace ?? '',
  }));
}

export const describeObject = (o: LiveObject) => `${o.kind}/${o.name}${o.namespace ? ` (${o.namespace})` : ' (cluster)'}`;

export class HelmRelease {
  constructor(
    private readonly cluster: KubeCluster,
    readonly name: string,
    readonly namespace: string,
  ) {}

  manifest(): Promise<string> {
    return this.cluster.helm(['get', 'manifest', this.name, '-n', this.namespace]);
  }

  /** The live objects of a manifest; with `ignoreMissing`, those that still exist. */
  async objectsOf(manifest: string, ignoreMissing = false): Promise<LiveObject[]> {
    const args = ['-n', this.namespace, 'get', '-f', '-', '-o', 'json', ...(ignoreMissing ? ['--ignore-not-found'] : [])];
    const out = await this.cluster.kc(args, manifest);
    return out.trim() ? parseList(out) : [];
  }

  /** Objects in the cluster that carry the chart's labels, in any namespace and cluster-wide. */
  async labelled(): Promise<LiveObject[]> {
    const [namespaced, cluster] = await Promise.all([
      this.cluster.kc(['get', namespacedKinds.join(','), '-A', '-l', chartLabels, '-o', 'json']),
      this.cluster.kc(['get', clusterKinds.join(','), '-l', chartLabels, '-o', 'json']),
    ]);
    return [...parseList(namespaced), ...parseList(cluster)];
  }

  /** Helm's release records (one Secret per revision) in the release namespace. */
  async records(): Promise<LiveObject[]> {
    return parseList(await this.cluster.kc(['-n', this.namespace, 'get', 'secrets', '-l', `owner=helm,name=${this.name}`, '-o', 'json']));
  }
}
