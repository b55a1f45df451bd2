import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fanoutBatch } from '@chorus/shared/bus/payloads';
import { roomPayloads } from '../src/fanout-publisher.js';

const entry = (seq: number, text = 'hello') => ({
  message: { id: `m${seq}`, room: 'lobby', seq, sender: 'ann', text, ts: 1_700_000_000_000 + seq, clientMsgId: `c${seq}` },
  traceparent: seq === 1 ? '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' : undefined,
});

test('one payload per room when it fits, valid against the fanoutBatch schema', () => {
  const payloads = roomPayloads('lobby', [entry(1), entry(2)], 1024 * 1024);
  assert.equal(payloads.length, 1);
  const parsed = fanoutBatch.parse(JSON.parse(payloads[0]!));
  assert.deepEqual(parsed.messages.map((m) => m.seq), [1, 2]);
  assert.equal(parsed.messages[0]!.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal('traceparent' in parsed.messages[1]!, false);
  assert.equal('clientMsgId' in parsed.messages[0]!, false, 'fan-out carries only what the schema allows');
});

test('a room part bigger than max payload is split, keeping seq order and every message', () => {
  const entries = Array.from({ length: 50 }, (_, i) => entry(i + 1, 'x'.repeat(1000)));
  const payloads = roomPayloads('lobby', entries, 8 * 1024);
  assert.ok(payloads.length > 1);
  for (const p of payloads) assert.ok(Buffer.byteLength(p) <= 8 * 1024, 'every payload within the limit');
  const seqs = payloads.flatMap((p) => fanoutBatch.parse(JSON.parse(p)).messages.map((m) => m.seq));
  assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
});
