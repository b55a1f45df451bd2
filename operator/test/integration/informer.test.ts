import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiServer, type RunningKubeApiServer } from '@chorus/local/servers/kube-apiserver';
import { Informer, type InformerEventType } from '../../src/controller/informer.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kinds } from '../../src/kube/resource-kinds.js';
import { eventually } from './harness.js';

/**
 * The informer's recovery paths against a real API server whose watches come straight from etcd
 * (--watch-cache=false), so compacting etcd makes an old resourceVersion answer 410 Gone.
 */
describe('informer recovery', { timeout: 90_000 }, () => {
  let dir: string;
  let kube: RunningKubeApiServer;
  let client: KubeClient;
  let informer: Informer;
  const seen: [InformerEventType, string][] = [];

  const configMap = (name: string, labelled: boolean) =>
    client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default', ...(labelled && { labels: { 'informer-test': 'yes' } }) },
      data: { at: String(Date.now()) },
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chorus-informer-'));
    kube = await startKubeApiServer({ dataDir: dir, extraArgs: ['--watch-cache=false'] });
    client = KubeClient.load(kube.kubeconfigPath);
    await configMap('first', true);
    informer = new Informer(client, kinds.ConfigMap, { namespace: 'default', labelSelector: 'informer-test=yes', watchTimeoutSeconds: 2 });
    informer.on((type, obj) => seen.push([type, obj.metadata.name!]));
    informer.start();
    await informer.synced;
  });

  after(async () => {
    await informer?.stop();
    await kube?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('lists, then watches: adds, updates and deletes arrive', async () => {
    assert.deepEqual(seen, [['add', 'first']]);
    await configMap('second', true);
    await client.mergePatch(kinds.ConfigMap, 'default', 'second', { data: { x: '1' } });
    await client.delete(kinds.ConfigMap, 'default', 'first');
    await eventually(() => seen.length === 4, 5_000, 'watch events');
    assert.deepEqual(seen.slice(1), [['add', 'second'], ['update', 'second'], ['delete', 'first']]);
    assert.deepEqual([...informer.cache.keys()], ['default/second']);
  });

  test('410 Gone after etcd compaction: lists again and carries on', async () => {
    // Advance etcd's revision with objects the informer does not select, then compact it all away:
    // the informer's next watch (its server timeout is 2 s) starts from a compacted revision.
    for (let i = 0; i < 5; i++) await configMap(`other-${i}`, false);
    const range = await fetch(`${kube.etcd.url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
    const revision = ((await range.json()) as { header: { revision: string } }).header.revision;
    const compacted = await fetch(`${kube.etcd.url}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
    assert.equal(compacted.status, 200);
    await eventually(() => informer.stats.relists >= 1, 10_000, 'a relist after 410');
    await configMap('third', true);
    await eventually(() => informer.cache.has('default/third'), 5_000, 'events after the relist');
  });

  test('API server down: backs off, then resumes when it is back', async () => {
    const errorsBefore = informer.stats.errors;
    await kube.process.stop();
    await eventually(() => informer.stats.errors > errorsBefore, 10_000, 'a failed watch');
    await kube.process.start();
    await configMap('fourth', true);
    await eventually(() => informer.cache.has('default/fourth'), 20_000, 'events after the API server came back');
  });
});
