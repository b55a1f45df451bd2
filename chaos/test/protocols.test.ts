import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v1Protocol } from '../src/protocol/v1-protocol.js';
import { v2Protocol } from '../src/protocol/v2-protocol.js';

const frame = (value: Record<string, unknown>) => JSON.stringify(value);

test('v1: seq is the position and seq - 1 the previous one; join resumes with afterSeq; no resend flag', () => {
  assert.deepEqual(v1Protocol.parse(frame({ type: 'message', room: 'r', seq: 7, id: 'm', sender: 'a', text: 't', ts: 1 })), {
    kind: 'message',
    room: 'r',
    pos: 7,
    prev: 6,
    id: 'm',
    sender: 'a',
  });
  assert.deepEqual(v1Protocol.parse(frame({ type: 'ack', rid: 's:a.1', room: 'r', clientMsgId: 'a.1', id: 'm', seq: 7 })), {
    kind: 'ack',
    rid: 's:a.1',
    room: 'r',
    clientMsgId: 'a.1',
    id: 'm',
    pos: 7,
  });
  assert.deepEqual(JSON.parse(v1Protocol.join({ rid: 'j:1', room: 'r', after: 5 })), { type: 'join', rid: 'j:1', room: 'r', afterSeq: 5 });
  assert.deepEqual(JSON.parse(v1Protocol.join({ rid: 'j:1', room: 'r', after: undefined })), { type: 'join', rid: 'j:1', room: 'r' });
  assert.deepEqual(JSON.parse(v1Protocol.send({ rid: 's', room: 'r', clientMsgId: 'c', text: 't', resend: true })), {
    type: 'send',
    rid: 's',
    room: 'r',
    clientMsgId: 'c',
    text: 't',
  });
  // A v2 frame is not a v1 frame: the mismatch is reported, not guessed around.
  const wrong = v1Protocol.parse(frame({ type: 'message', room: 'r', pos: 7, prev: 3, id: 'm', sender: 'a' }));
  assert.equal(wrong.kind, 'invalid');
  assert.match(wrong.kind === 'invalid' ? wrong.reason : '', /seq/);
});

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

test('both: anything else from the gateway is validated, never trusted', () => {
  for (const protocol of [v1Protocol, v2Protocol]) {
    assert.equal(protocol.parse('not json').kind, 'invalid');
    assert.equal(protocol.parse('[1]').kind, 'invalid');
    assert.equal(protocol.parse(frame({ type: 'joined', room: 'r', head: -1 })).kind, 'invalid');
    assert.deepEqual(protocol.parse(frame({ type: 'pong' })), { kind: 'other', type: 'pong' });
    assert.deepEqual(protocol.parse(frame({ type: 'welcome', user: 'a', gateway: 'g' })), { kind: 'welcome', user: 'a', gateway: 'g' });
    assert.deepEqual(protocol.parse(frame({ type: 'joined', rid: 3, room: 'r', head: 0, created: true })), { kind: 'joined', rid: '3', room: 'r', head: 0 });
  }
});
