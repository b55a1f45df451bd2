import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { repoRoot } from '@chorus/local/servers/binaries';
import type { LoadReport } from '@chorus/loadtest/report/report-types';
import { ChatClient } from './support/chat-client.js';
import { waitUntil } from './support/wait-until.js';

// The platform as `npm start` runs it: every gateway behind one port (cluster workers of the
// platform's process), supervised.

let platform: Platform | undefined;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-one-address-'));
  platform = await startPlatform({
    dataDir,
    gateways: 2,
    messageServices: 1,
    sharedPort: 0,
    supervise: { initialDelayMs: 200, maxDelayMs: 2_000, resetAfterMs: 60_000 },
  });
});

after(async () => {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const servedBy = (client: ChatClient) => {
  const welcome = client.frames.find((f) => f.type === 'welcome');
  return welcome?.type === 'welcome' ? welcome.gateway : undefined;
};

/** Clients on the one address until one has landed on `gateway` (connections go round-robin). */
async function clientOn(gateway: string, name: string, opened: ChatClient[]): Promise<ChatClient> {
  for (let i = 0; i < 8; i++) {
    const client = await ChatClient.login(platform!.url, `${name}${i}`);
    opened.push(client);
    if (servedBy(client) === gateway) return client;
  }
  throw new Error(`8 connections to ${platform!.url}, none served by ${gateway}: ${opened.map(servedBy).join(', ')}`);
}

test('clients of the one address land on every gateway', async () => {
  const opened: ChatClient[] = [];
  try {
    for (let i = 0; i < 4; i++) opened.push(await ChatClient.login(platform!.url, `spread${i}`));
    assert.deepEqual(new Set(opened.map(servedBy)), new Set(['gateway-1', 'gateway-2']));
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
});

test('a killed gateway: the other keeps serving the address, its clients resume there with nothing lost, and it comes back', async () => {
  const opened: ChatClient[] = [];
  try {
    const amy = await clientOn('gateway-1', 'amy', opened);
    const bob = await clientOn('gateway-2', 'bob', opened);
    await amy.request({ type: 'create', room: 'one-address' });
    await bob.request({ type: 'join', room: 'one-address' });
    const first = await bob.request({ type: 'send', room: 'one-address', clientMsgId: 'm1', text: 'before the crash' });
    assert.equal(first.type, 'ack');
    await amy.waitForMessages('one-address', 1);
    const held = amy.messages('one-address').at(-1)!.pos;

    const victim = platform!.processes().find((p) => p.name === 'gateway-1')!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitUntil(() => amy.socket.readyState === amy.socket.CLOSED, 10_000, "amy's socket closes with her gateway");
    // While gateway-1 is down, bob goes on; every new connection is served by gateway-2.
    const during = await bob.request({ type: 'send', room: 'one-address', clientMsgId: 'm2', text: 'while gateway-1 is down' });
    assert.equal(during.type, 'ack');
    const amyAgain = await ChatClient.login(platform!.url, amy.user);
    opened.push(amyAgain);
    const joined = await amyAgain.request({ type: 'join', room: 'one-address', after: held });
    assert.equal(joined.type, 'joined');
    await amyAgain.waitForMessages('one-address', 1);
    assert.deepEqual(amyAgain.messages('one-address').map((m) => [m.text, m.prev]), [['while gateway-1 is down', held]]);

    // The supervisor starts gateway-1 again, and the address reaches it again.
    await waitUntil(async () => {
      const now = platform!.processes().find((p) => p.name === 'gateway-1')!;
      return now.pid !== victim.pid && (await fetch(`${platform!.gatewayUrls[0]}/readyz`).catch(() => undefined))?.ok === true;
    }, 30_000, 'gateway-1 restarted and ready');
    await clientOn('gateway-1', 'carl', opened);
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
});

test('the load tester, given only the one address, spreads its users over every gateway', async () => {
  const out = join(dataDir, 'report');
  const cli = join(repoRoot, 'loadtest', 'dist', 'src', 'cli.js');
  const args = ['steady', '--gateway', platform!.url, '--users', '40', '--duration', '2s', '--rate', '10', '--drain-timeout', '20s', '--slo-delivery-p99', '20000', '--slo-ack-p99', '20000', '--out', out, '--progress', 'lines'];
  const status = await new Promise<number | null>((resolve) => spawn(process.execPath, [cli, ...args], { stdio: 'ignore', timeout: 120_000 }).on('close', resolve));
  assert.equal(status, 0);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport;
  assert.deepEqual(report.gateways, [platform!.url]);
  assert.equal(report.connections.established, 40);
  const counts = report.connections.byGateway;
  assert.deepEqual(Object.keys(counts).sort(), ['gateway-1', 'gateway-2']);
  // Logins take turns on the address too (they are connections), so the split is not exact.
  assert.ok(Math.min(...Object.values(counts)) >= 6, `users per gateway: ${JSON.stringify(counts)}`);
  assert.equal(report.deliveries.lost, 0);
});
