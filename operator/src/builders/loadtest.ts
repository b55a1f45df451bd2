import type { KubeObject } from '../kube/kube-object.js';
import { chorusContainer, chorusImage, resourcesFor, type BuildContext } from './build-context.js';
import { gatewayPort } from './gateway.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, uids } from './pod-security.js';

/**
 * The Job is created with the rest of the ChatCluster, before any gateway is ready: its pod first
 * waits (bounded, 10 minutes) until the gateway Service answers /readyz, so the run measures the
 * platform and not its start-up.
 */
export const waitForGatewayScript = [
  'const url = process.env.LOADTEST_GATEWAY + "/readyz";',
  'const deadline = Date.now() + 600000;',
  '(async () => {',
  '  for (;;) {',
  '    try { if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return; } catch {}',
  '    if (Date.now() > deadline) { console.error("no ready gateway at " + url + " within 10 minutes"); process.exit(1); }',
  '    await new Promise((r) => setTimeout(r, 1000));',
  '  }',
  '})();',
].join('\n');

function loadtestPod(ctx: BuildContext, command: string[], restartPolicy: 'Never' | 'Always'): Record<string, unknown> {
  const { spec } = ctx;
  const env = [{ name: 'LOADTEST_GATEWAY', value: gatewayUrl(ctx) }];
  return {
    restartPolicy,
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(uids.chorus),
    ...(restartPolicy === 'Never' && {
      initContainers: [
        {
          ...chorusContainer(spec, 'wait-for-gateway', ['node', '-e', waitForGatewayScript]),
          env,
          resources: resourcesFor(undefined, 'loadtest'),
          securityContext: containerSecurityContext,
        },
      ],
    }),
    containers: [
      {
        ...chorusContainer(spec, 'loadtest', command),
        // The CLI's default gateway, so `kubectl exec -it deploy/<name>-loadtest -- loadtest new-year` just works.
        env,
        resources: resourcesFor(undefined, 'loadtest'),
        securityContext: containerSecurityContext,
        // Reports go to ./reports (relative to /app); the root filesystem is read-only.
        volumeMounts: [tmpMount, { name: 'reports', mountPath: '/app/reports' }],
      },
    ],
    volumes: [tmpVolume, { name: 'reports', emptyDir: { sizeLimit: '256Mi' } }],
  };
}

export function gatewayUrl(ctx: BuildContext): string {
  return `http://${names.gateway(ctx.name)}:${ctx.spec.gateway.service.port ?? gatewayPort}`;
}

/** `loadtest <profile> --gateway <url> <args...>` once; a new spec gets a new Job (templates are immutable). */
export function loadtestJob(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  const command = ['loadtest', spec.loadtest.profile, '--gateway', gatewayUrl(ctx), ...spec.loadtest.args];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(cr, names.loadtestJob(name, shortHash({ command, image: chorusImage(spec) }, 8)), 'loadtest', spec.version),
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: { metadata: { labels: labels(name, 'loadtest', spec.version) }, spec: loadtestPod(ctx, command, 'Never') },
    },
  };
}

/** A pod that idles so people can `kubectl exec -it deploy/<name>-loadtest -- loadtest new-year`. */
export function loadtestDeployment(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.loadtest(name), 'loadtest', spec.version),
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels(name, 'loadtest') },
      template: {
        metadata: { labels: labels(name, 'loadtest', spec.version) },
        // Idle forever with what the image surely has (node), not a shell's `sleep infinity`.
        spec: loadtestPod(ctx, ['node', '-e', 'setInterval(() => {}, 1 << 30)'], 'Always'),
      },
    },
  };
}
