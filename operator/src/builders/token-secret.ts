import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names } from './naming.js';
import { natsUsersSecret } from './nats-users-secret.js';

/**
 * The HS256 key of the gateways (dev mode: they sign with it; jwt mode without an
 * hs256SecretRef or jwksUrl: the application backend signs with it, reading this Secret).
 * Created once with a random value and never re-applied (re-rendering would rotate it and log
 * everyone out); recreated only if deleted.
 */
export function tokenSecret(ctx: BuildContext): KubeObject {
  return randomSecret(ctx, names.tokenSecret(ctx.name), 'CHORUS_TOKEN_SECRET');
}

/** The bearer secret of POST /admin/revoke on the gateways' metrics port; created once like the token Secret. */
export function adminSecret(ctx: BuildContext): KubeObject {
  return randomSecret(ctx, names.adminSecret(ctx.name), 'ADMIN_TOKEN');
}

/** Secrets the operator creates once and never re-applies. */
export const createOnceSecrets = [tokenSecret, adminSecret, natsUsersSecret];

function randomSecret(ctx: BuildContext, name: string, key: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, name, 'config'),
    type: 'Opaque',
    stringData: { [key]: randomBytes(32).toString('base64url') },
  };
}
