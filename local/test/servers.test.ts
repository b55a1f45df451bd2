import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startNats } from '../src/servers/nats.js';
import { startRedis } from '../src/servers/redis.js';
import { startFerretDb } from '../src/servers/ferretdb.js';

/** Writes `payload`, then reads until `lines` reply lines have arrived. */
function sendAndRead(port: number, payload: string, lines = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.split('\r\n').length - 1 < lines) return;
      socket.destroy();
      resolve(reply);
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
    // Redis requires its generated password, as a ChatCluster's does.
    assert.match(await sendAndRead(redis.port, 'PING\r\n'), /^-NOAUTH /);
    assert.equal(await sendAndRead(redis.port, `AUTH ${redis.password}\r\nPING\r\n`, 2), '+OK\r\n+PONG\r\n');
    assert.match(await sendAndRead(redis.port, 'AUTH wrong\r\n'), /^-WRONGPASS /);
    assert.match(mongo.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    await Promise.all([nats.stop(), redis.stop(), mongo.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.notEqual(nats.process.pid, undefined);
  assert.equal(await nats.process.whenExited().then(() => 'exited'), 'exited');
});
