import type { ChatClusterSpec } from '../api/chatcluster-spec.js';
import { chorusImage } from '../builders/build-context.js';

/** What the administrator lets a ChatCluster use (operator flags --allowed-images, --allowed-secret-prefixes). */
export interface Allowlist {
  /** Image reference prefixes; empty: any image. */
  images: readonly string[];
  /** Secret name prefixes, `{name}` = the ChatCluster's name; empty: any Secret. */
  secretPrefixes: readonly string[];
}

export const allowAll: Allowlist = { images: [], secretPrefixes: [] };

/**
 * The fields of a spec the allowlist refuses, one line each naming the field and its value. A
 * namespace's users may write ChatClusters; this keeps them from running an image the
 * administrator did not choose, or from pointing the operator's pods at another team's Secret.
 */
export function allowlistViolations(spec: ChatClusterSpec, clusterName: string, allowlist: Allowlist): string[] {
  const problems: string[] = [];
  if (allowlist.images.length) {
    const images: [string, string | undefined][] = [
      ['spec.image', chorusImage(spec)],
      ['spec.nats.image', spec.nats.image],
      ['spec.redis.image', spec.redis.image],
      ['spec.mongodb.image', spec.mongodb.external ? undefined : spec.mongodb.image],
    ];
    for (const [field, image] of images) {
      if (image !== undefined && !allowlist.images.some((prefix) => image.startsWith(prefix))) {
        problems.push(`${field}: image ${image} is not allowed (allowed prefixes: ${allowlist.images.join(', ')})`);
      }
    }
  }
  if (allowlist.secretPrefixes.length) {
    const prefixes = allowlist.secretPrefixes.map((p) => p.replaceAll('{name}', clusterName));
    const refs: [string, string | undefined][] = [
      ['spec.mongodb.external.uriSecretRef', spec.mongodb.external?.uriSecretRef.name],
      ['spec.gateway.auth.hs256SecretRef', spec.gateway.auth.hs256SecretRef?.name],
    ];
    for (const [field, secret] of refs) {
      if (secret !== undefined && !prefixes.some((prefix) => secret.startsWith(prefix))) {
        problems.push(`${field}: Secret ${secret} is not allowed (allowed prefixes: ${prefixes.join(', ')})`);
      }
    }
  }
  return problems;
}
