import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsMsg } from '@nats-io/jetstream';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';
import { BatchProcessor } from '../src/batch-processor.js';
import type { WriteOutcome } from '../src/batch-writer.js';
import type { FanoutEntry } from '../src/fanout-publisher.js';
import type { InboundMessage } from '../src/inbound-message.js';
import { StatsCollector } from '../src/stats.js';
import { capturedLogger } from './support/captured-logger.js';

// The writer and publisher are this service's own seams; the database and NATS behind them are
// covered by the integration tests. Here: ordering and ack bookkeeping when writes overlap.

interface Recorded {
  events: string[];
}
function inbound(rec: Recorded, room: string, seq: number): InboundMessage {
  const message: QueuedMessage = { id: `${room}-${seq}`, room, seq, sender: 'ann', text: 't', ts: Date.now(), clientMsgId: `c${seq}` };
  const msg = {
    headers: undefined,
    info: { deliveryCount: 1 },
    ack: () => rec.events.push(`ack ${seq}`),
    nak: (delay?: number) => rec.events.push(`nak ${seq} ${delay}`),
    term: () => rec.events.push(`term ${seq}`),
  } as unknown as JsMsg;
  return { msg, message, pulledAt: Date.now() };
}

test('overlapping writes are fanned out and acked in batch order, even when the second finishes first', async () => {
  const rec: Recorded = { events: [] };
  const releases: (() => void)[] = [];
  const processor = new BatchProcessor({
    writer: {
      write: (messages) =>
        new Promise<WriteOutcome>((resolve) => {
          rec.events.push(`write ${messages[0]!.seq}`);
          releases.push(() =>
            resolve({ stored: messages.map((message, index) => ({ index, message, duplicate: false })), conflicts: [], failed: [] }),
          );
        }),
    },
    fanout: { publish: (entries: readonly FanoutEntry[]) => (rec.events.push(`fanout ${entries.map((e) => e.message.seq).join(',')}`), 1) },
    stats: new StatsCollector(),
    log: capturedLogger().log,
    maxInFlightWrites: 2,
  });
  processor.enqueue([inbound(rec, 'r', 1), inbound(rec, 'r', 2)]);
  processor.enqueue([inbound(rec, 'r', 3)]);
  processor.enqueue([inbound(rec, 'r', 4)]);
  assert.deepEqual(rec.events, ['write 1', 'write 3'], 'two writes in flight, the third waits');
  assert.equal(processor.backlog, 3);
  releases[1]!(); // the second batch's write completes first
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rec.events, ['write 1', 'write 3'], 'batch 2 waits for batch 1 before fan-out');
  releases[0]!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    rec.events.filter((e) => !e.startsWith('write')),
    ['fanout 1,2', 'ack 1', 'ack 2', 'fanout 3', 'ack 3'],
  );
  assert.ok(rec.events.indexOf('write 4') > rec.events.indexOf('ack 2'), 'the third write starts when the first batch is done');
  releases[2]!();
  await processor.whenIdle();
  assert.deepEqual(rec.events.slice(-2), ['fanout 4', 'ack 4']);
});

test('a failed write naks its messages with a delay, and later batches still go out', async () => {
  const rec: Recorded = { events: [] };
  let call = 0;
  const processor = new BatchProcessor({
    writer: {
      write: async (messages) => {
        call++;
        if (call === 1) return { stored: [], conflicts: [], failed: messages.map((_, i) => i), error: new Error('down') };
        return { stored: messages.map((message, index) => ({ index, message, duplicate: false })), conflicts: [], failed: [] };
      },
    },
    fanout: { publish: (entries: readonly FanoutEntry[]) => (rec.events.push(`fanout ${entries.map((e) => e.message.seq).join(',')}`), 1) },
    stats: new StatsCollector(),
    log: capturedLogger().log,
    maxInFlightWrites: 1,
  });
  processor.enqueue([inbound(rec, 'r', 1)]);
  processor.enqueue([inbound(rec, 'r', 2)]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rec.events, ['fanout ', 'nak 1 500']);
  assert.equal(processor.failing, true, 'failing until a write succeeds');
  await processor.whenIdle(); // after the retry pause
  assert.deepEqual(rec.events.slice(2), ['fanout 2', 'ack 2']);
  assert.equal(processor.failing, false);
});

test('conflicting messages are terminated, the others acked', async () => {
  const rec: Recorded = { events: [] };
  const processor = new BatchProcessor({
    writer: {
      write: async (messages) => ({
        stored: [{ index: 0, message: messages[0]!, duplicate: true }],
        conflicts: [1],
        failed: [],
      }),
    },
    fanout: { publish: () => 1 },
    stats: new StatsCollector(),
    log: capturedLogger().log,
  });
  processor.enqueue([inbound(rec, 'r', 1), inbound(rec, 'r', 2)]);
  await processor.whenIdle();
  assert.deepEqual(rec.events, ['ack 1', 'term 2']);
});

