import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientFrame } from '../../src/protocol/parse-client-frame.js';
import { messageIdFor } from '../../src/protocol/message-id.js';

test('accepts every valid frame type', () => {
  const valid = [
    { type: 'send', room: 'a', clientMsgId: 'c1', text: 'hi', rid: 1 },
    { type: 'create', room: 'a-b_c' },
    { type: 'join', room: 'a', after: 10 },
    { type: 'send', room: 'a', clientMsgId: 'c', text: 'again', resend: true },
    { type: 'leave', room: 'a' },
    { type: 'history', room: 'a', before: 5, limit: 10 },
    { type: 'presence', room: 'a' },
    { type: 'rooms' },
    { type: 'ping', rid: 'x' },
    { type: 'create', room: 'p', visibility: 'private', history: 'since_join' },
    { type: 'invite', room: 'a', user: 'bob', fence: 3 },
    { type: 'add', room: 'a', user: 'bob', fence: 3 },
    { type: 'remove', room: 'a', user: 'bob', fence: 3 },
    { type: 'ban', room: 'a', user: 'bob', fence: 3 },
    { type: 'unban', room: 'a', user: 'bob', fence: 3 },
    { type: 'promote', room: 'a', user: 'bob', fence: 3 },
    { type: 'demote', room: 'a', user: 'bob', fence: 3 },
    { type: 'transfer', room: 'a', user: 'bob', fence: 3 },
    { type: 'settings', room: 'a', fence: 4, settings: { topic: 'x', visibility: 'public', history: 'all', name: 'A' } },
    { type: 'room_info', room: 'a' },
    { type: 'lease_acquire', room: 'a', target: 'settings' },
    { type: 'lease_renew', room: 'a', target: 'member:bob', fence: 5 },
    { type: 'lease_release', room: 'a', target: 'member:bob', fence: 5 },
  ];
  for (const frame of valid) {
    const result = parseClientFrame(JSON.stringify(frame));
    assert.ok(result.ok, `${frame.type}: ${!result.ok && result.message}`);
    assert.deepEqual(result.frame, frame);
  }
});

test('says exactly what is wrong, with the rid and type it could read', () => {
  const cases: [string, string, RegExp][] = [
    ['nope', 'bad_json', /JSON/],
    ['"text"', 'invalid_frame', /object/],
    ['{"rid":3}', 'invalid_frame', /type/],
    ['{"type":"fly","rid":3}', 'unknown_type', /fly/],
    ['{"type":"send","rid":3,"room":"a","clientMsgId":"c","text":""}', 'invalid_frame', /text/],
    ['{"type":"join","room":"has space"}', 'invalid_frame', /room/],
    ['{"type":"history","room":"a","limit":100000}', 'invalid_frame', /limit/],
    ['{"type":"join","room":"a","after":-1}', 'invalid_frame', /after/],
    ['{"type":"join","room":"a","afterSeq":1}', 'invalid_frame', /afterSeq/],
    ['{"type":"lease_acquire","room":"a","target":"members"}', 'invalid_frame', /target/],
    ['{"type":"remove","room":"a","user":"bob"}', 'invalid_frame', /fence/],
    ['{"type":"remove","room":"a","user":"bob","fence":0}', 'invalid_frame', /fence/],
    ['{"type":"remove","room":"a","user":"bob","fence":1,"actor":"ann"}', 'invalid_frame', /actor/],
    ['{"type":"settings","room":"a","fence":1,"settings":{}}', 'invalid_frame', /setting/],
    ['{"type":"settings","room":"a","fence":1,"settings":{"visibility":"secret"}}', 'invalid_frame', /visibility/],
    ['{"type":"create","room":"a","visibility":"hidden"}', 'invalid_frame', /visibility/],
  ];
  for (const [raw, code, message] of cases) {
    const result = parseClientFrame(raw);
    assert.equal(result.ok, false, raw);
    if (result.ok) continue;
    assert.equal(result.code, code, raw);
    assert.match(result.message, message, raw);
  }
  const withRid = parseClientFrame('{"type":"send","rid":3,"room":"a"}');
  assert.ok(!withRid.ok && withRid.rid === 3 && withRid.request === 'send');
});

test('rejects frames over the size limit before parsing them', () => {
  const result = parseClientFrame(Buffer.alloc(2000, 32), 1000);
  assert.ok(!result.ok && result.code === 'frame_too_large');
});

test('message ids are stable per (sender, clientMsgId) and differ otherwise', () => {
  assert.equal(messageIdFor('a', 'x'), messageIdFor('a', 'x'));
  assert.notEqual(messageIdFor('a', 'x'), messageIdFor('b', 'x'));
  assert.notEqual(messageIdFor('ab', 'x'), messageIdFor('a', 'bx'));
});
