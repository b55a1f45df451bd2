import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { subjects } from '@chorus/shared/bus/names';
import { injectTrace, startTelemetry, tracer, type Telemetry } from '@chorus/shared/telemetry/tracing';
import { startMessageService, type MessageService } from '../src/service.js';
import { startBackends, type Backends } from './support/backends.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat, eventually } from './support/messages.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let backends: Backends;
let service: MessageService;
let nc: NatsConnection;

before(async () => {
  telemetry = startTelemetry('message-service-test', { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  backends = await startBackends();
  service = await startMessageService({
    natsUrl: backends.nats.url,
    mongoUri: backends.mongo.uri,
    mongoDb: 'tracing',
    logger: capturedLogger().log,
    statsIntervalMs: 0,
  });
  nc = await connect({ servers: backends.nats.url });
});

after(async () => {
  await service?.close();
  await nc?.close();
  await backends?.stop();
  await telemetry?.shutdown();
});

test('each message gets queue.wait and batch.process (with mongodb.insert) in its own trace; the batch links them', async () => {
  const js = jetstream(nc);
  // Two messages, each in its own trace, as the gateway would send them.
  const parents = [tracer().startSpan('gateway.receive', { root: true }), tracer().startSpan('gateway.receive', { root: true })];
  const messages = [chat('traced', 1), chat('traced', 2)].map((m) => ({ ...m, ts: Date.now() - 5 }));
  await Promise.all(
    messages.map((m, i) => {
      const h = headers();
      h.set('Nats-Msg-Id', m.id);
      injectTrace(trace.setSpan(ROOT_CONTEXT, parents[i]!), { get: (k) => h.get(k), set: (k, v) => h.set(k, v) });
      return js.publish(subjects.inbound(m.room), JSON.stringify(m), { headers: h });
    }),
  );
  for (const p of parents) p.end();
  await eventually(() => service.stats().processed === 2, 'both stored');
  await eventually(() => exporter.getFinishedSpans().filter((s) => s.name === 'batch.process').length === 2, 'spans ended');
  const spans = exporter.getFinishedSpans();

  parents.forEach((parent, i) => {
    const traceId = parent.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const byName = (name: string) => inTrace.filter((s) => s.name === name);
    const [wait] = byName('queue.wait');
    const [process] = byName('batch.process');
    const [insert] = byName('mongodb.insert');
    assert.ok(wait && process && insert, `message ${i + 1} has all three spans (got ${inTrace.map((s) => s.name).join(', ')})`);
    assert.equal(byName('batch.process').length, 1, 'one batch.process per message');
    assert.equal(wait.parentSpanContext?.spanId, parent.spanContext().spanId, 'queue.wait is a child of the message context');
    assert.equal(process.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(insert.parentSpanContext?.spanId, process.spanContext().spanId, 'mongodb.insert is inside batch.process');
    assert.equal(insert.attributes['db.system'], 'mongodb');
    assert.equal(typeof process.attributes['batch.size'], 'number');
    assert.equal(process.attributes['message.outcome'], 'acked');
    assert.ok(wait.startTime[0] * 1000 + wait.startTime[1] / 1e6 <= messages[i]!.ts + 1, 'queue wait starts when the gateway accepted it');
    // batch.process links to the batch span, which lives in its own trace and links back.
    const batchId = process.links[0]?.context.spanId;
    const batch: ReadableSpan | undefined = spans.find((s) => s.name === 'batch' && s.spanContext().spanId === batchId);
    assert.ok(batch, 'batch.process links to the batch span');
    assert.notEqual(batch.spanContext().traceId, traceId);
    assert.ok(batch.links.some((l) => l.context.spanId === parent.spanContext().spanId), 'the batch links the message context');
  });
});
