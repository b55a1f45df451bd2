import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startNats } from '../src/servers/nats.js';
import { startRedis } from '../src/servers/redis.js';
import { startFerretDb } from '../src/servers/ferretdb.js';

function sendAndRead(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

test('real servers start on loopback, answer, and stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-servers-'));
  const [nats, redis, mongo] = await Promise.all([
    startNats({ dataDir: join(dir, 'nats') }),
    startRedis({ dataDir: join(dir, 'redis') }),
    startFerretDb({ dataDir: join(dir, 'mongo') }),
  ]);
  try {
    const jsz = (await (await fetch(`http://127.0.0.1:${nats.monitorPort}/jsz`)).json()) as { config?: { store_dir?: string } };
    assert.ok(jsz.config?.store_dir?.startsWith(dir), 'JetStream stores under the data dir');
    assert.equal(await sendAndRead(redis.port, 'PING\r\n'), '+PONG\r\n');
    assert.match(mongo.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    await Promise.all([nats.stop(), redis.stop(), mongo.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.notEqual(nats.process.pid, undefined);
  assert.equal(await nats.process.whenExited().then(() => 'exited'), 'exited');
});
