import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsMsg } from '@nats-io/jetstream';
import type { PositionedMessage } from '@chorus/shared/bus/payloads';
import { BatchProcessor } from '../src/pipeline/batch-processor.js';
import type { WriteOutcome } from '../src/pipeline/batch-writer.js';
import type { InboundMessage } from '../src/pipeline/inbound-message.js';
import { StatsCollector } from '../src/stats.js';
import { capturedLogger } from './support/captured-logger.js';
import { chat } from './support/messages.js';

// The writer is this service's own seam; the database behind it is covered by the integration
// tests. Here: ack/nak/term bookkeeping, overlapping writes and the retry pause.

interface Recorded {
  events: string[];
}
function inbound(rec: Recorded, room: string, pos: number, deliveryCount = 1): InboundMessage {
  const msg = {
    headers: undefined,
    info: { deliveryCount },
    ack: () => rec.events.push(`ack ${pos}`),
    nak: (delay?: number) => rec.events.push(`nak ${pos} ${delay}`),
    term: () => rec.events.push(`term ${pos}`),
  } as unknown as JsMsg;
  return { msg, message: chat(room, pos), pos, pulledAt: Date.now() };
}
const allStored = (batch: readonly PositionedMessage[]): WriteOutcome => ({
  stored: batch.map((_, index) => ({ index, redelivered: false })),
  lateDuplicates: [],
  conflicts: [],
  failed: [],
});

test('up to maxInFlightWrites inserts overlap; each batch is acked as soon as its own write is done', async () => {
  const rec: Recorded = { events: [] };
  const releases: (() => void)[] = [];
  const written: PositionedMessage[][] = [];
  const processor = new BatchProcessor({
    writer: {
      write: (batch) =>
        new Promise<WriteOutcome>((resolve) => {
          written.push([...batch]);
          rec.events.push(`write ${batch[0]!.pos}`);
          releases.push(() => resolve(allStored(batch)));
        }),
    },
    stats: new StatsCollector(),
    log: capturedLogger().log,
    maxInFlightWrites: 2,
  });
  processor.enqueue([inbound(rec, 'r', 11), inbound(rec, 'r', 14)]);
  processor.enqueue([inbound(rec, 'r', 20)]);
  processor.enqueue([inbound(rec, 'r', 31)]);
  assert.deepEqual(rec.events, ['write 11', 'write 20'], 'two writes in flight, the third waits');
  assert.equal(processor.backlog, 3);
  assert.deepEqual(
    written[0]!.map((m) => [m.pos, m.message.id]),
    [
      [11, 'r-11'],
      [14, 'r-14'],
    ],
    'the writer gets each message with its stream position',
  );
  // The second batch's write completes first: acks need no order (the ack floor only moves
  // past a position once everything below it is acked), so it is acked right away.
  releases[1]!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rec.events, ['write 11', 'write 20', 'ack 20', 'write 31']);
  releases[0]!();
  releases[2]!();
  await processor.whenIdle();
  assert.deepEqual(rec.events.slice(4).sort(), ['ack 11', 'ack 14', 'ack 31']);
  assert.equal(processor.backlog, 0);
});

test('a failed write naks its messages with a growing delay, pauses, and later batches still go out', async () => {
  const rec: Recorded = { events: [] };
  const stats = new StatsCollector();
  let call = 0;
  const processor = new BatchProcessor({
    writer: {
      write: async (batch) => {
        call++;
        if (call === 1) return { stored: [], lateDuplicates: [], conflicts: [], failed: batch.map((_, i) => i), error: new Error('down') };
        return allStored(batch);
      },
    },
    stats,
    log: capturedLogger().log,
    maxInFlightWrites: 1,
  });
  processor.enqueue([inbound(rec, 'r', 1), inbound(rec, 'r', 2, 3)]);
  processor.enqueue([inbound(rec, 'r', 5)]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rec.events, ['nak 1 500', 'nak 2 2000'], 'delay doubles with each delivery');
  assert.equal(processor.failing, true, 'failing until a write succeeds');
  assert.equal(processor.backlog, 1, 'the next batch waits out the retry pause');
  await processor.whenIdle();
  assert.deepEqual(rec.events.slice(2), ['ack 5']);
  assert.equal(processor.failing, false);
  const totals = stats.snapshot();
  assert.equal(totals.failed, 2);
  assert.equal(totals.processed, 1);
});

test('a writer that throws counts as a failed write: everything is nak\'ed', async () => {
  const rec: Recorded = { events: [] };
  const processor = new BatchProcessor({
    writer: { write: () => Promise.reject(new Error('driver bug')) },
    stats: new StatsCollector(),
    log: capturedLogger().log,
  });
  processor.enqueue([inbound(rec, 'r', 7), inbound(rec, 'r', 8)]);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rec.events, ['nak 7 500', 'nak 8 500']);
  assert.equal(processor.failing, true);
});

test('redeliveries and late duplicates are acked, conflicts terminated; stats count each kind', async () => {
  const rec: Recorded = { events: [] };
  const stats = new StatsCollector();
  const logs = capturedLogger();
  const processor = new BatchProcessor({
    writer: {
      write: async () => ({
        stored: [
          { index: 0, redelivered: false },
          { index: 1, redelivered: true },
        ],
        lateDuplicates: [2],
        conflicts: [3],
        failed: [],
      }),
    },
    stats,
    log: logs.log,
  });
  processor.enqueue([inbound(rec, 'r', 1), inbound(rec, 'r', 2), inbound(rec, 'r', 3), inbound(rec, 'r', 4)]);
  await processor.whenIdle();
  assert.deepEqual(rec.events, ['ack 1', 'ack 2', 'ack 3', 'term 4']);
  const totals = stats.snapshot();
  assert.equal(totals.processed, 2, 'stored now or before at the same position');
  assert.equal(totals.duplicates, 2, 'the redelivery and the late duplicate');
  assert.equal(totals.conflicts, 1);
  assert.equal(totals.failed, 0);
  assert.deepEqual(totals.recentBatchSizes, [4]);
  assert.equal(processor.failing, false, 'duplicates and conflicts are not database failures');
  const lines = logs.lines();
  assert.ok(lines.some((l) => l.level === 40 && l.id === 'r-3' && l.pos === 3 && /another position/.test(String(l.msg))));
  assert.ok(lines.some((l) => l.level === 50 && l.id === 'r-4' && l.pos === 4 && /position already taken/.test(String(l.msg))));
});
