// Tracing for real: the platform as `npm start -- --tracing` runs it (separate processes exporting
// OTLP to a Jaeger all-in-one), one message between users on two gateways, and its trace read back
// from Jaeger's query API. Needs `scripts/bootstrap.sh jaeger`; without it the test is reported as
// skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaries } from '@chorus/local/servers/binaries';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';
import { assertMessageTrace, describeTrace, readMessageTrace } from './support/jaeger-trace.js';

function jaegerMissing(): string | false {
  try {
    binaries.jaeger();
    return false;
  } catch (error) {
    return (error as Error).message;
  }
}
const skip = jaegerMissing();

let dataDir: string;
let platform: Platform | undefined;

before(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-jaeger-'));
  platform = await startPlatform({ dataDir, gateways: 2, messageServices: 1, tracing: true });
});

after(async () => {
  await platform?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('one message between two gateways is one trace in Jaeger: gateway, JetStream, queue, batch, database, every receiving gateway', { skip }, async (t) => {
  const jaeger = platform!.jaegerUrl!;
  const get = async (path: string) => {
    const response = await fetch(`${jaeger}${path}`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const [a, b] = platform!.gatewayUrls as [string, string];
  const alice = await ChatClient.login(a, 'alice');
  const bob = await ChatClient.login(b, 'bob');
  try {
    await alice.request({ type: 'create', room: 'traced' });
    await bob.request({ type: 'join', room: 'traced' });
    const ack = await alice.request({ type: 'send', room: 'traced', clientMsgId: 'trace-me', text: 'follow me' });
    assert.equal(ack.type, 'ack');
    if (ack.type !== 'ack') return;
    await bob.waitFor((f) => f.type === 'message' && f.id === ack.id);

    // Both gateways have a receiver: alice (her own message comes back to her) and bob.
    const trace = await readMessageTrace(get, ack.id, ['gateway-1', 'gateway-2']);
    t.diagnostic(`trace ${trace.traceId} from ${jaeger}/api/traces/${trace.traceId}:\n${describeTrace(trace.spans)}\nlinked from ${trace.batch.name} [${trace.batch.service}] (its own trace)`);
    assertMessageTrace(trace, 'gateway-1', ['gateway-1', 'gateway-2']);
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});
