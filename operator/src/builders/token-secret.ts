import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names } from './naming.js';

/**
 * The gateways' token signing secret. Created once with a random value and never re-applied
 * (re-rendering would rotate it and log everyone out); recreated only if deleted.
 */
export function tokenSecret(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, names.tokenSecret(ctx.name), 'config'),
    type: 'Opaque',
    stringData: { CHORUS_TOKEN_SECRET: randomBytes(32).toString('base64url') },
  };
}
