import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v2Protocol } from '../src/protocol/v2-protocol.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);

test('v2: pos and prev as sent; join resumes with after; retries carry resend: true; catchup_failed resumes', () => {
  assert.deepEqual(v2Protocol.parse(frame({ type: 'message', room: 'r', pos: 40, prev: 12, id: 'm', sender: 'a', text: 't', ts: 1 })), {
    kind: 'message',
    room: 'r',
    pos: 40,
    prev: 12,
    id: 'm',
    sender: 'a',
  });
  const ack = v2Protocol.parse(frame({ type: 'ack', rid: 's:a.1', room: 'r', clientMsgId: 'a.1', id: 'm', pos: 40, duplicate: true }));
  assert.equal(ack.kind === 'ack' && ack.pos, 40);
  assert.deepEqual(JSON.parse(v2Protocol.join({ rid: 'j:1', room: 'r', after: 40 })), { type: 'join', rid: 'j:1', room: 'r', after: 40 });
  assert.equal(JSON.parse(v2Protocol.send({ rid: 's', room: 'r', clientMsgId: 'c', text: 't', resend: true })).resend, true);
  assert.equal('resend' in JSON.parse(v2Protocol.send({ rid: 's', room: 'r', clientMsgId: 'c', text: 't', resend: false })), false);
  const error = v2Protocol.parse(frame({ type: 'error', code: 'catchup_failed', message: 'x', room: 'r', after: 40 }));
  assert.deepEqual(error, { kind: 'error', rid: undefined, code: 'catchup_failed', message: 'x', room: 'r' });
  assert.ok(v2Protocol.rejoinCodes.includes('catchup_failed'));
  assert.equal(v2Protocol.parse(frame({ type: 'message', room: 'r', pos: 4, prev: 4, id: 'm', sender: 'a' })).kind, 'invalid', 'prev must be below pos');
});

test('anything else from the gateway is validated, never trusted', () => {
  for (const protocol of [v2Protocol]) {
    assert.equal(protocol.parse('not json').kind, 'invalid');
    assert.equal(protocol.parse('[1]').kind, 'invalid');
    assert.equal(protocol.parse(frame({ type: 'joined', room: 'r', head: -1 })).kind, 'invalid');
    assert.deepEqual(protocol.parse(frame({ type: 'pong' })), { kind: 'other', type: 'pong' });
    assert.deepEqual(protocol.parse(frame({ type: 'welcome', user: 'a', gateway: 'g' })), { kind: 'welcome', user: 'a', gateway: 'g' });
    assert.deepEqual(protocol.parse(frame({ type: 'joined', rid: 3, room: 'r', head: 0, created: true })), { kind: 'joined', rid: '3', room: 'r', head: 0 });
  }
});
