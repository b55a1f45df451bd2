import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideJoin, decideLeave, decideMemberOp, readFromAtJoin, type Standing } from '../src/rooms/room-policy.js';
import { hideBefore } from '../src/rpc/history-handler.js';

const owner: Standing = { state: 'member', role: 'owner' };
const admin: Standing = { state: 'member', role: 'admin' };
const member: Standing = { state: 'member', role: 'member' };
const none: Standing = { state: 'none', role: 'member' };
const invited: Standing = { state: 'invited', role: 'member' };
const banned: Standing = { state: 'banned', role: 'member' };
const code = (d: ReturnType<typeof decideMemberOp>) => (d.ok ? `ok:${d.next.state}/${d.next.role}` : d.code);

test('who may do what to whom', () => {
  const cases: [Parameters<typeof decideMemberOp>[0], Standing | undefined, Standing, string][] = [
    ['invite', member, none, 'forbidden'],
    ['invite', undefined, none, 'not_member'],
    ['invite', admin, none, 'ok:invited/member'],
    ['invite', admin, member, 'already_member'],
    ['invite', admin, banned, 'banned'],
    ['add', admin, invited, 'ok:member/member'],
    ['add', admin, banned, 'banned'],
    ['remove', admin, member, 'ok:none/member'],
    ['remove', admin, invited, 'ok:none/member'],
    ['remove', admin, none, 'not_member'],
    ['remove', admin, admin, 'forbidden'],
    ['remove', owner, admin, 'ok:none/member'],
    ['remove', owner, owner, 'forbidden'],
    ['ban', admin, none, 'ok:banned/member'],
    ['ban', admin, admin, 'forbidden'],
    ['ban', admin, owner, 'forbidden'],
    ['unban', admin, banned, 'ok:none/member'],
    ['promote', admin, member, 'ok:member/admin'],
    ['promote', admin, invited, 'not_member'],
    ['demote', admin, admin, 'forbidden'],
    ['demote', owner, admin, 'ok:member/member'],
    ['transfer', admin, member, 'forbidden'],
    ['transfer', owner, none, 'not_member'],
    ['transfer', owner, member, 'ok:member/owner'],
  ];
  for (const [op, actor, target, expected] of cases) {
    assert.equal(code(decideMemberOp(op, actor, target, false)), expected, `${op} by ${JSON.stringify(actor)} on ${JSON.stringify(target)}`);
  }
  assert.equal(code(decideMemberOp('remove', admin, admin, true)), 'forbidden', 'nobody removes themselves (they leave)');
});

test('join and leave', () => {
  const publicJoin = decideJoin('public', undefined);
  assert.ok(publicJoin !== 'already_member' && publicJoin.ok);
  assert.equal(decideJoin('public', member), 'already_member');
  const privateJoin = decideJoin('private', none);
  assert.ok(privateJoin !== 'already_member' && !privateJoin.ok && privateJoin.code === 'not_invited');
  const invitedJoin = decideJoin('private', invited);
  assert.ok(invitedJoin !== 'already_member' && invitedJoin.ok);
  const bannedJoin = decideJoin('public', banned);
  assert.ok(bannedJoin !== 'already_member' && !bannedJoin.ok && bannedJoin.code === 'banned');
  const ownerLeave = decideLeave(owner);
  assert.ok(!ownerLeave.ok && ownerLeave.code === 'owner_must_transfer');
  assert.ok(decideLeave(admin).ok);
  assert.equal(readFromAtJoin('all', 40), 0);
  assert.equal(readFromAtJoin('since_join', 40), 40);
});

test('hideBefore drops what lies at or before readFrom and re-chains the first message', () => {
  const m = (pos: number, prev: number) => ({ room: 'r', pos, prev, id: `m${pos}`, sender: 'a', text: 't', ts: 1 });
  const page = { messages: [m(10, 5), m(20, 10), m(30, 20)], hasMore: true };
  assert.deepEqual(hideBefore(page, 0), page);
  assert.deepEqual(hideBefore(page, 15), { messages: [m(20, 15), m(30, 20)], hasMore: false });
  assert.deepEqual(hideBefore(page, 7), { messages: [m(10, 7), m(20, 10), m(30, 20)], hasMore: false });
  assert.deepEqual(hideBefore(page, 4), page, 'the previous message is visible: more may be read');
});
