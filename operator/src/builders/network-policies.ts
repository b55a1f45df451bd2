import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { gatewayMetricsPort, gatewayPort } from './gateway.js';
import { messageServiceMetricsPort } from './message-service.js';
import { childMeta, names, selectorLabels, type Component } from './naming.js';

export const ports = { nats: 4222, natsRoutes: 6222, natsMonitor: 8222, redis: 6379, mongodb: 27017, dns: 53 } as const;

type Peer = Record<string, unknown>;
type Rule = { peers?: Peer[]; ports: { port: number; protocol?: 'TCP' | 'UDP' }[] };

const tcp = (...list: number[]) => list.map((port) => ({ port, protocol: 'TCP' as const }));
const pods = (ctx: BuildContext, component: Component): Peer => ({ podSelector: { matchLabels: selectorLabels(ctx.name, component) } });

/**
 * The operator's pods (label component=operator, as the chart sets it) in its own namespace, or in
 * any namespace when the operator does not know its own (it runs outside the cluster).
 */
function operatorPods(ctx: BuildContext): Peer {
  return {
    namespaceSelector: ctx.operatorNamespace ? { matchLabels: { 'kubernetes.io/metadata.name': ctx.operatorNamespace } } : {},
    podSelector: { matchLabels: { 'app.kubernetes.io/component': 'operator' } },
  };
}

/** The TCP port of an http(s) URL (its default when it names none). */
export function urlPort(url: string): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
}

function policy(ctx: BuildContext, suffix: string, selector: Record<string, string>, rules: { ingress?: Rule[]; egress?: Rule[] }): KubeObject {
  const types = [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])];
  const render = (direction: 'from' | 'to') => (rule: Rule) => ({ ...(rule.peers && { [direction]: rule.peers }), ports: rule.ports });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(ctx.cr, names.networkPolicy(ctx.name, suffix), 'config'),
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: types,
      ...(rules.ingress && { ingress: rules.ingress.map(render('from')) }),
      ...(rules.egress && { egress: rules.egress.map(render('to')) }),
    },
  };
}

/**
 * NetworkPolicies of one ChatCluster (they take effect only with a CNI that enforces them). Every
 * pod of the cluster starts from deny-all in both directions; each policy below opens one
 * component's paths, and policies add up. A rule without peers means any address.
 */
export function networkPolicies(ctx: BuildContext): KubeObject[] {
  const { spec, name } = ctx;
  const external = spec.mongodb.external !== undefined;
  const component = (c: Component) => selectorLabels(name, c);
  const nats: Rule = { peers: [pods(ctx, 'nats')], ports: tcp(ports.nats) };
  const redis: Rule = { peers: [pods(ctx, 'redis')], ports: tcp(ports.redis) };
  // An external MongoDB's address is only in its Secret: any address, on MongoDB's port.
  const mongodb: Rule = external ? { ports: tcp(ports.mongodb) } : { peers: [pods(ctx, 'mongodb')], ports: tcp(ports.mongodb) };
  const tracing: Rule[] = spec.tracing?.otlpEndpoint ? [{ ports: tcp(urlPort(spec.tracing.otlpEndpoint)) }] : [];
  const jwks: Rule[] = spec.gateway.auth.jwksUrl ? [{ ports: tcp(urlPort(spec.gateway.auth.jwksUrl)) }] : [];
  const metricsFromOperator: Rule = { peers: [operatorPods(ctx)], ports: tcp(gatewayMetricsPort) };

  const policies = [
    // Every pod of this ChatCluster: nothing in, nothing out, unless a policy below allows it.
    policy(ctx, 'default-deny', { 'app.kubernetes.io/name': 'chorus', 'app.kubernetes.io/instance': name }, { ingress: [], egress: [] }),
    policy(ctx, 'dns', { 'app.kubernetes.io/name': 'chorus', 'app.kubernetes.io/instance': name }, {
      egress: [{ ports: [{ port: ports.dns, protocol: 'UDP' }, { port: ports.dns, protocol: 'TCP' }] }],
    }),
    policy(ctx, 'gateway', component('gateway'), {
      // Clients (Ingress controller, load balancer, load tester) from anywhere, on the HTTP/WebSocket port only.
      ingress: [{ ports: tcp(gatewayPort) }, metricsFromOperator],
      egress: [nats, redis, ...jwks, ...tracing],
    }),
    policy(ctx, 'message-service', component('message-service'), {
      ingress: [{ peers: [operatorPods(ctx)], ports: tcp(messageServiceMetricsPort) }],
      egress: [nats, mongodb, ...tracing],
    }),
    policy(ctx, 'nats', component('nats'), {
      ingress: [
        // The operator's autopilot reads the backlog and writes batching settings; it also reads /jsz.
        { peers: [pods(ctx, 'gateway'), pods(ctx, 'message-service'), pods(ctx, 'preflight'), operatorPods(ctx)], ports: tcp(ports.nats) },
        { peers: [operatorPods(ctx)], ports: tcp(ports.natsMonitor) },
        { peers: [pods(ctx, 'nats')], ports: tcp(ports.natsRoutes) },
      ],
      egress: [{ peers: [pods(ctx, 'nats')], ports: tcp(ports.natsRoutes) }],
    }),
    policy(ctx, 'redis', component('redis'), {
      ingress: [{ peers: [pods(ctx, 'gateway'), pods(ctx, 'preflight')], ports: tcp(ports.redis) }],
      egress: [],
    }),
    policy(ctx, 'preflight', component('preflight'), { ingress: [], egress: [nats, redis, mongodb] }),
  ];
  if (!external) {
    policies.push(
      policy(ctx, 'mongodb', component('mongodb'), {
        // Members (and the init Job, same labels) talk to each other.
        ingress: [{ peers: [pods(ctx, 'message-service'), pods(ctx, 'preflight'), pods(ctx, 'mongodb')], ports: tcp(ports.mongodb) }],
        egress: [{ peers: [pods(ctx, 'mongodb')], ports: tcp(ports.mongodb) }],
      }),
    );
  }
  if (spec.loadtest.enabled) {
    policies.push(policy(ctx, 'loadtest', component('loadtest'), { ingress: [], egress: [{ peers: [pods(ctx, 'gateway')], ports: tcp(gatewayPort) }] }));
  }
  return policies;
}
