import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTelemetry, type Telemetry } from '@chorus/shared/telemetry/tracing';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import { startMongo, type RunningMongo } from '@chorus/local/servers/ferretdb';
import { startGateway, type Gateway } from '@chorus/gateway/gateway';
import { startMessageService, type MessageService } from '@chorus/message-service/service';
import { ChatClient } from './support/chat-client.js';

// Gateways and a message-service run in this process so one in-memory exporter sees every span.
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let dataDir: string;
let nats: RunningNats;
let redis: RunningRedis;
let mongo: RunningMongo;
let gateways: Gateway[] = [];
let worker: MessageService;

before(async () => {
  telemetry = startTelemetry('chorus-test', { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  dataDir = mkdtempSync(join(tmpdir(), 'chorus-tracing-'));
  [nats, redis, mongo] = await Promise.all([
    startNats({ dataDir: join(dataDir, 'nats') }),
    startRedis({ dataDir: join(dataDir, 'redis') }),
    startMongo({ dataDir: join(dataDir, 'mongo') }),
  ]);
  worker = await startMessageService({ natsUrl: nats.url, mongoUri: mongo.uri, mongoDb: 'tracing', statsIntervalMs: 0 });
  const auth = { mode: 'dev', secret: 'a-test-secret-of-32-characters!!', issuer: 'chorus-dev', audience: 'chorus', ttlSeconds: 3600 } as const;
  const common = { natsUrl: nats.url, redisUrl: redis.url, redisPassword: redis.password, auth, port: 0, metricsPort: 0 };
  gateways = [await startGateway({ ...common, gatewayId: 'gw-a' }), await startGateway({ ...common, gatewayId: 'gw-b' })];
});

after(async () => {
  for (const gateway of gateways) await gateway.close();
  await worker?.close();
  await Promise.all([nats?.stop(), redis?.stop(), mongo?.stop()]);
  await telemetry?.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

test('one message yields one trace: gateway, stream, queue, batch, database and every receiving gateway', async () => {
  const [a, b] = gateways.map((g) => `http://127.0.0.1:${g.port}`) as [string, string];
  const alice = await ChatClient.login(a, 'alice');
  const bob = await ChatClient.login(b, 'bob');
  try {
    await alice.request({ type: 'create', room: 'traced' });
    await bob.request({ type: 'join', room: 'traced' });
    exporter.reset();
    const ack = await alice.request({ type: 'send', room: 'traced', clientMsgId: 'trace-me', text: 'follow me' });
    assert.equal(ack.type, 'ack');
    await bob.waitFor((f) => f.type === 'message' && f.text === 'follow me');
    await alice.waitFor((f) => f.type === 'message' && f.text === 'follow me');

    // Deliveries end right after the push; the database write follows on its own (it is off the
    // delivery path): wait for both.
    let spans: ReadableSpan[] = [];
    for (let i = 0; i < 100; i++) {
      spans = exporter.getFinishedSpans();
      if (spans.filter((s) => s.name === 'gateway.deliver').length >= 2 && spans.some((s) => s.name === 'batch.process')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const receive = spans.find((s) => s.name === 'gateway.receive');
    assert.ok(receive, 'the gateway recorded receiving the message');
    const traceId = receive.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const names = new Set(inTrace.map((s) => s.name));
    for (const name of ['gateway.receive', 'jetstream.publish', 'queue.wait', 'batch.process', 'mongodb.insert', 'gateway.deliver']) {
      assert.ok(names.has(name), `span ${name} is in the message's trace (got ${[...names].join(', ')})`);
    }
    const deliveries = inTrace.filter((s) => s.name === 'gateway.deliver').map((s) => s.attributes['chorus.gateway']);
    assert.deepEqual(deliveries.sort(), ['gw-a', 'gw-b'], 'one delivery span per receiving gateway');

    // The batch span lives in its own trace and links to every message it carried.
    const batch = spans.find((s) => s.name === 'batch' && s.links.some((l) => l.context.traceId === traceId));
    assert.ok(batch, 'the batch span links the message context');
    // Parentage: every span of the trace descends from the gateway's receive span.
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    for (const span of inTrace) {
      let cursor: ReadableSpan | undefined = span;
      while (cursor && cursor !== receive) cursor = byId.get(cursor.parentSpanContext?.spanId ?? '');
      assert.equal(cursor, receive, `${span.name} descends from gateway.receive`);
    }
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});
