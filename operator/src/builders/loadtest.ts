import type { KubeObject } from '../kube/kube-object.js';
import { chorusContainer, chorusImage, resourcesFor, type BuildContext } from './build-context.js';
import { gatewayPort } from './gateway.js';
import { childMeta, labels, names, selectorLabels, shortHash } from './naming.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, uids } from './pod-security.js';

function loadtestPod(ctx: BuildContext, command: string[], restartPolicy: 'Never' | 'Always'): Record<string, unknown> {
  const { spec } = ctx;
  return {
    restartPolicy,
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(uids.chorus),
    containers: [
      {
        ...chorusContainer(spec, 'loadtest', command),
        // The CLI's default gateway, so `kubectl exec -it deploy/<name>-loadtest -- loadtest new-year` just works.
        env: [{ name: 'LOADTEST_GATEWAY', value: gatewayUrl(ctx) }],
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
