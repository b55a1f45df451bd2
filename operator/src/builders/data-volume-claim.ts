import type { KubeObject } from '../kube/kube-object.js';

/** The `data` volume claim template of a StatefulSet (NATS JetStream files, MongoDB data). */
export function dataVolumeClaim(storage: { storageSize: string; storageClassName?: string | undefined }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storage.storageClassName && { storageClassName: storage.storageClassName }),
      resources: { requests: { storage: storage.storageSize } },
    },
  };
}
