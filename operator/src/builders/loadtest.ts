import type { KubeObject } from '../kube/kube-object.js';
import { chorusImage, resourcesFor, type BuildContext } from './build-context.js';
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
        name: 'loadtest',
        image: chorusImage(spec),
        imagePullPolicy: spec.imagePullPolicy,
        workingDir: '/app',
        command,
        env: [{ name: 'CHORUS_GATEWAY_URL', value: gatewayUrl(ctx) }],
        resources: resourcesFor(undefined, 'loadtest'),
        securityContext: containerSecurityContext,
        volumeMounts: [tmpMount],
      },
    ],
    volumes: [tmpVolume],
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
        spec: loadtestPod(ctx, ['sleep', 'infinity'], 'Always'),
      },
    },
  };
}
