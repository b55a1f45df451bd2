import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { ChatClient } from './support/chat-client.js';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Acquires the lease on `target`, sends the write with its fence, releases; returns the write's reply. */
async function underLease(client: ChatClient, room: string, target: string, write: Record<string, unknown>): Promise<ServerFrame> {
  const lease = await client.request({ type: 'lease_acquire', room, target });
  assert.equal(lease.type, 'lease', `${client.user} acquires ${target}: ${JSON.stringify(lease)}`);
  const { fence } = lease as Frame<'lease'>;
  const reply = await client.request({ ...write, room, fence });
  await client.request({ type: 'lease_release', room, target, fence });
  return reply;
}
const errorCode = (frame: ServerFrame) => (frame.type === 'error' ? frame.code : `not an error: ${JSON.stringify(frame)}`);

describe('rooms with roles through the gateways (2 gateways, 2 message-services)', () => {
  let platform: Platform;
  let dataDir: string;
  const clients: ChatClient[] = [];
  const login = async (gateway: number, user: string) => {
    const client = await ChatClient.login(platform.gatewayUrls[gateway]!, user);
    clients.push(client);
    return client;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-e2e-rooms-'));
    platform = await startPlatform({ dataDir, gateways: 2, messageServices: 2 });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a removed or banned member\'s socket on the other gateway stops receiving at once and is told; it can neither send nor read', async () => {
    const owner = await login(0, 'owner');
    const [mallory, troll, eve] = [await login(1, 'mallory'), await login(1, 'troll'), await login(1, 'eve')];
    assert.equal((await owner.request({ type: 'create', room: 'mod' })).type, 'joined');
    for (const client of [mallory, troll, eve]) assert.equal((await client.request({ type: 'join', room: 'mod' })).type, 'joined');
    assert.equal((await owner.request({ type: 'send', room: 'mod', clientMsgId: 'm1', text: 'before' })).type, 'ack');
    await Promise.all([mallory, troll, eve].map((c) => c.waitForMessages('mod', 1)));

    const removed = await underLease(owner, 'mod', 'member:mallory', { type: 'remove', user: 'mallory' });
    assert.deepEqual(removed, { type: 'member_updated', rid: removed.type === 'member_updated' ? removed.rid : 0, room: 'mod', user: 'mallory', state: 'none' });
    assert.deepEqual(await mallory.waitFor((f) => f.type === 'removed'), { type: 'removed', room: 'mod', reason: 'removed' });
    await underLease(owner, 'mod', 'member:troll', { type: 'ban', user: 'troll' });
    assert.deepEqual(await troll.waitFor((f) => f.type === 'removed'), { type: 'removed', room: 'mod', reason: 'banned' });

    assert.equal((await owner.request({ type: 'send', room: 'mod', clientMsgId: 'm2', text: 'after' })).type, 'ack');
    await eve.waitForMessages('mod', 2);
    assert.deepEqual(mallory.messages('mod').map((m) => m.text), ['before'], 'nothing after the removal');
    assert.deepEqual(troll.messages('mod').map((m) => m.text), ['before'], 'nothing after the ban');
    assert.equal(errorCode(await mallory.request({ type: 'send', room: 'mod', clientMsgId: 'x', text: 'still here?' })), 'not_member');
    assert.equal(errorCode(await mallory.request({ type: 'history', room: 'mod' })), 'not_member');
    assert.equal(errorCode(await troll.request({ type: 'join', room: 'mod', after: 0 })), 'banned');
  });

  test('a private room refuses a join without an invite; an invite lets the user in and shows in their room list', async () => {
    const owner = await login(0, 'vipowner');
    const guest = await login(1, 'guest');
    assert.equal((await owner.request({ type: 'create', room: 'vip', visibility: 'private' })).type, 'joined');
    assert.equal(errorCode(await guest.request({ type: 'join', room: 'vip' })), 'not_invited');
    assert.equal(errorCode(await guest.request({ type: 'history', room: 'vip' })), 'not_member');
    const invited = await underLease(owner, 'vip', 'member:guest', { type: 'invite', user: 'guest' });
    assert.equal(invited.type === 'member_updated' && invited.state, 'invited');
    const list = (await guest.request({ type: 'rooms' })) as Frame<'rooms'>;
    assert.deepEqual(list.invites, ['vip']);
    assert.equal((await guest.request({ type: 'join', room: 'vip' })).type, 'joined');
    const after = (await guest.request({ type: 'rooms' })) as Frame<'rooms'>;
    assert.deepEqual(after.rooms.map((r) => [r.room, r.visibility, r.role]), [['vip', 'private', 'member']]);
  });

  test('the edit lease is per session: the same user\'s second session sees lease_held with the holder; a member cannot acquire', async () => {
    const first = await login(0, 'boss');
    const second = await login(1, 'boss');
    const member = await login(1, 'pleb');
    await first.request({ type: 'create', room: 'edit' });
    await member.request({ type: 'join', room: 'edit' });
    const lease = (await first.request({ type: 'lease_acquire', room: 'edit', target: 'settings' })) as Frame<'lease'>;
    assert.equal(lease.type, 'lease');
    const held = await second.request({ type: 'lease_acquire', room: 'edit', target: 'settings' });
    assert.equal(errorCode(held), 'lease_held');
    assert.equal(held.type === 'error' && held.holder, 'boss');
    assert.equal(errorCode(await second.request({ type: 'settings', room: 'edit', fence: lease.fence, settings: { topic: 'mine' } })), 'lease_held');
    assert.equal(errorCode(await member.request({ type: 'lease_acquire', room: 'edit', target: 'member:pleb' })), 'forbidden');
    const info = (await second.request({ type: 'room_info', room: 'edit' })) as Frame<'room_info'>;
    assert.deepEqual(info.leases.map((l) => [l.target, l.holder]), [['settings', 'boss']]);
    const written = await first.request({ type: 'settings', room: 'edit', fence: lease.fence, settings: { topic: 'ours', history: 'since_join' } });
    assert.equal(written.type === 'settings' && written.settings.topic, 'ours');
    // A closed connection's leases end at once.
    await first.close();
    await (async () => {
      for (;;) {
        const reply = await second.request({ type: 'lease_acquire', room: 'edit', target: 'settings' });
        if (reply.type === 'lease') return;
        // `unavailable` is the service's "the lease changed hands while acquiring; try again".
        assert.ok(['lease_held', 'unavailable'].includes(errorCode(reply)), `got ${errorCode(reply)}`);
        // Poll, not flood: the gateway answers more than 50 frames a second with rate_limited.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  });

  test('since_join: a resume with after 0 does not deliver what came before the join', async () => {
    const owner = await login(0, 'host');
    assert.equal((await owner.request({ type: 'create', room: 'late', history: 'since_join' })).type, 'joined');
    for (let i = 1; i <= 3; i++) assert.equal((await owner.request({ type: 'send', room: 'late', clientMsgId: `e${i}`, text: `early ${i}` })).type, 'ack');
    const newcomer = await login(1, 'newcomer');
    const joined = (await newcomer.request({ type: 'join', room: 'late', after: 0 })) as Frame<'joined'>;
    assert.ok(joined.readFrom > 0, 'readFrom is the join position');
    assert.equal(joined.head, joined.readFrom, 'the resume starts at readFrom, not 0');
    assert.equal((await owner.request({ type: 'send', room: 'late', clientMsgId: 'l1', text: 'late 1' })).type, 'ack');
    await newcomer.waitForMessages('late', 1);
    assert.deepEqual(newcomer.messages('late').map((m) => [m.text, m.prev]), [['late 1', joined.readFrom]]);
    const page = (await newcomer.request({ type: 'history', room: 'late' })) as Frame<'history'>;
    assert.deepEqual(page.messages.map((m) => m.text), ['late 1']);
  });
});
