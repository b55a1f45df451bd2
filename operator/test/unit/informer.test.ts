import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Informer } from '../../src/controller/informer.js';
import type { WatchEvent } from '../../src/kube/kube-client.js';
import type { KubeObject } from '../../src/kube/kube-object.js';

const configMaps = { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', namespaced: true };

test('a watch that fails part-way is resumed from the last resourceVersion it delivered', { timeout: 10_000 }, async () => {
  const watchedFrom: (string | undefined)[] = [];
  let resumed!: () => void;
  const secondWatch = new Promise<void>((resolve) => (resumed = resolve));
  const client = {
    async list<T extends KubeObject>() {
      return { items: [] as T[], resourceVersion: '1' };
    },
    async watch(_kind: unknown, _ns: unknown, query: Record<string, string | undefined>, onEvent: (event: WatchEvent<any>) => void, options: { signal: AbortSignal }) {
      watchedFrom.push(query.resourceVersion);
      if (watchedFrom.length === 1) {
        onEvent({ type: 'ADDED', object: { metadata: { namespace: 'default', name: 'a', resourceVersion: '5' } } });
        onEvent({ type: 'MODIFIED', object: { metadata: { namespace: 'default', name: 'a', resourceVersion: '7' } } });
        throw new Error('connection reset'); // the stream broke after two events
      }
      resumed();
      await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
  const informer = new Informer(client, configMaps);
  informer.start();
  await secondWatch;
  await informer.stop();
  assert.deepEqual(watchedFrom, ['1', '7']);
  assert.equal(informer.get('default', 'a')?.metadata.resourceVersion, '7');
  assert.equal(informer.stats.lists, 1, 'no relist: the watch resumed');
});
