import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryTracker } from '../src/metrics/delivery-tracker.js';
import { LatencyHistogram } from '../src/metrics/latency-histogram.js';
import { TimeSeries } from '../src/metrics/time-series.js';

test('percentiles of 1..1000 ms are exact within the histogram precision', () => {
  const h = new LatencyHistogram();
  // Shuffled order must not matter.
  const values = Array.from({ length: 1000 }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000));
  for (const v of values) h.recordMs(v);
  const s = h.summary();
  assert.equal(s.count, 1000);
  const close = (actual: number, expected: number): void =>
    assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} vs ${expected}`);
  close(s.p50, 500);
  close(s.p90, 900);
  close(s.p99, 990);
  close(s.max, 1000);
  close(s.min, 1);
  close(s.mean, 500.5);
});

test('sub-millisecond latencies keep microsecond resolution', () => {
  const h = new LatencyHistogram();
  for (const v of [0.25, 0.5, 0.75, 1.0]) h.recordMs(v);
  assert.equal(h.summary().p50, 0.5);
  assert.equal(h.summary().max, 1);
});

test('histogram bins count every value once', () => {
  const h = new LatencyHistogram();
  for (const v of [0.005, 1, 1.1, 10, 250, 1e6]) h.recordMs(v);
  const bins = h.binsForPlot();
  assert.equal(bins.reduce((n, b) => n + b.count, 0), 6);
  const bin1 = bins.find((b) => b.fromMs <= 1 && 1 < b.toMs);
  assert.equal(bin1?.count, 2, 'values 1 and 1.1 share the [1, 1.26) bin');
});

test('an empty histogram reports zeros, not NaN', () => {
  assert.deepEqual(new LatencyHistogram().summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test('tracker: full delivery in order is clean', () => {
  const t = new DeliveryTracker(1);
  const a = t.addReceiver(0);
  const b = t.addReceiver(0);
  for (let seq = 1; seq <= 3; seq++) {
    t.onAck(0, `id${seq}`, 2);
    assert.equal(t.onDelivery(a, `id${seq}`, seq, seq - 1), 'new');
    assert.equal(t.onDelivery(b, `id${seq}`, seq, seq - 1), 'new');
  }
  const totals = t.totals();
  assert.deepEqual(
    { expected: totals.expected, delivered: totals.delivered, lost: totals.lost, dup: totals.duplicates, order: totals.orderViolations },
    { expected: 6, delivered: 6, lost: 0, dup: 0, order: 0 },
  );
});

test('tracker: a delivery before its ack still counts (the sender sees its own message first)', () => {
  const t = new DeliveryTracker(1);
  const a = t.addReceiver(0);
  t.onDelivery(a, 'x', 1, 0);
  assert.deepEqual(t.progress(), { expected: 0, delivered: 0 });
  t.onAck(0, 'x', 1);
  assert.deepEqual(t.progress(), { expected: 1, delivered: 1 });
  assert.equal(t.totals().lost, 0);
});

test('tracker: a missing delivery is loss, counted per message', () => {
  const t = new DeliveryTracker(2);
  const a = t.addReceiver(0);
  const b = t.addReceiver(0);
  const c = t.addReceiver(1);
  t.onAck(0, 'm1', 2);
  t.onAck(0, 'm2', 2);
  t.onAck(1, 'm3', 1);
  t.onDelivery(a, 'm1', 1, 0);
  t.onDelivery(b, 'm1', 1, 0);
  t.onDelivery(a, 'm2', 2, 1); // b never gets m2
  // c never gets m3
  const totals = t.totals();
  assert.equal(totals.expected, 5);
  assert.equal(totals.delivered, 3);
  assert.equal(totals.lost, 2);
  assert.equal(totals.messagesWithLoss, 2);
  void c;
});

test('tracker: the same id twice at one receiver is a duplicate, not a delivery; at two receivers it is not', () => {
  const t = new DeliveryTracker(1);
  const a = t.addReceiver(0);
  const b = t.addReceiver(0);
  t.onAck(0, 'm1', 2);
  assert.equal(t.onDelivery(a, 'm1', 1, 0), 'new');
  assert.equal(t.onDelivery(a, 'm1', 1, 0), 'duplicate');
  assert.equal(t.onDelivery(b, 'm1', 1, 0), 'new');
  // A duplicate under a different position (a message stored twice) is still the same id.
  assert.equal(t.onDelivery(b, 'm1', 7, 6), 'duplicate');
  const totals = t.totals();
  assert.equal(totals.duplicates, 2);
  assert.equal(totals.delivered, 2);
  assert.equal(totals.lost, 0);
  assert.equal(totals.orderViolations, 0);
});

test('tracker: a prev that is not the held position is an order violation; the first seen may be anything', () => {
  const t = new DeliveryTracker(1);
  const r = t.addReceiver(0);
  t.onDelivery(r, 'a', 5, 2); // first seen: fine
  t.onDelivery(r, 'b', 9, 5); // chained: fine (positions need not be consecutive)
  t.onDelivery(r, 'c', 14, 11); // prev 11 was never received: a gap
  t.onDelivery(r, 'd', 11, 9); // backwards: violation
  t.onDelivery(r, 'e', 20, 14); // chained to the highest: fine
  assert.equal(t.totals().orderViolations, 2);
  assert.equal(t.totals().duplicates, 0);
});

test('tracker: order is per (receiver, room)', () => {
  const t = new DeliveryTracker(2);
  const inRoom0 = t.addReceiver(0);
  const inRoom1 = t.addReceiver(1);
  t.onDelivery(inRoom0, 'a', 1, 0);
  t.onDelivery(inRoom1, 'x', 1, 0);
  t.onDelivery(inRoom0, 'b', 2, 1);
  t.onDelivery(inRoom1, 'y', 2, 1);
  assert.equal(t.totals().orderViolations, 0);
});

test('tracker: deliveries of never-acked messages and extra receivers are reported apart from loss', () => {
  const t = new DeliveryTracker(1);
  const a = t.addReceiver(0);
  const b = t.addReceiver(0);
  t.onDelivery(a, 'unacked', 1, 0);
  t.onAck(0, 'm', 1);
  t.onDelivery(a, 'm', 2, 1);
  t.onDelivery(b, 'm', 2, 1);
  const totals = t.totals();
  assert.equal(totals.deliveriesOfUnackedMessages, 1);
  assert.equal(totals.unexpectedDeliveries, 1);
  assert.equal(totals.delivered, 1);
  assert.equal(totals.lost, 0);
});

test('tracker: a second ack of the same id owes nothing new', () => {
  const t = new DeliveryTracker(1);
  t.addReceiver(0);
  t.onAck(0, 'm', 1);
  t.onAck(0, 'm', 1);
  assert.equal(t.totals().expected, 1);
  assert.equal(t.totals().ackedMessages, 1);
});

test('tracker: thousands of messages per receiver grow the seen-bitset correctly', () => {
  const t = new DeliveryTracker(1);
  const r = t.addReceiver(0);
  for (let i = 1; i <= 5000; i++) {
    t.onAck(0, `m${i}`, 1);
    t.onDelivery(r, `m${i}`, i, i - 1);
  }
  assert.equal(t.onDelivery(r, 'm1', 1, 0), 'duplicate');
  assert.equal(t.onDelivery(r, 'm4999', 4999, 4998), 'duplicate');
  const totals = t.totals();
  assert.equal(totals.delivered, 5000);
  assert.equal(totals.duplicates, 2);
});

test('time series: per-second counts and latencies land in their interval', () => {
  const s = new TimeSeries(1000);
  s.count('sent', 1000);
  s.count('sent', 1999);
  s.deliveryLatency(5, 1500);
  s.deliveryLatency(15, 1600);
  s.count('sent', 3100); // skips interval 1 entirely
  s.ackLatency(2, 3200);
  const points = s.snapshot(3500);
  assert.equal(points.length, 3);
  assert.deepEqual(points.map((p) => p.t), [0, 1, 2]);
  assert.deepEqual(points.map((p) => p.sent), [2, 0, 1]);
  assert.equal(points[0]!.delivered, 2);
  assert.ok(Math.abs(points[0]!.deliveryMax - 15) < 0.02, 'max within histogram precision');
  assert.equal(points[1]!.deliveryP99, 0);
  assert.equal(points[2]!.acked, 1);
  assert.equal(points[2]!.ackP50, 2);
});
