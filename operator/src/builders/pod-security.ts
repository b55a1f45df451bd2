/**
 * Pod Security Standards "restricted" settings, used on every pod the operator renders: non-root,
 * no privilege escalation, all capabilities dropped, the runtime's default seccomp profile, and a
 * read-only root filesystem (writable paths are explicit volumes).
 */
export function podSecurityContext(uid: number, withFsGroup = false): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    ...(withFsGroup && { fsGroup: uid, fsGroupChangePolicy: 'OnRootMismatch' }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** User ids the images run as: node's "node" user, nats, redis and mongodb users. */
export const uids = { chorus: 1000, nats: 1000, redis: 999, mongodb: 999 };

export const tmpVolume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
export const tmpMount = { name: 'tmp', mountPath: '/tmp' };

/** Prefer one replica per node, so losing a node loses one replica (soft: small clusters still schedule). */
export function spreadAcrossNodes(selector: Record<string, string>): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
      ],
    },
  };
}
