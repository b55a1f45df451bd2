import type { NatsConnection } from '@nats-io/transport-node';
import type { MemberChange, MemberOpRequest, RoomAdminRequest, RoomAdminResults, RoomInfo } from '@chorus/shared/bus/payloads';
import { memberTarget, type RoomSettings } from '@chorus/shared/protocol/room-rules';
import type { Collections } from '../storage/collections.js';
import { announceMembership } from '../rooms/announce-membership.js';
import type { EditLeases } from '../rooms/edit-leases.js';
import { MemberStore, ownerOf, settingsOf, standingOf } from '../rooms/member-store.js';
import { decideMemberOp, mayEdit, readFromAtJoin } from '../rooms/room-policy.js';
import type { RoomLimits } from './room-limits.js';
import { RpcError } from './rpc-error.js';

type Op = RoomAdminRequest['op'];
type RequestOf<O extends Op> = Extract<RoomAdminRequest, { op: O }>;
type ResultOf = {
  [O in Op]: O extends MemberOpRequest['op']
    ? RoomAdminResults['member']
    : O extends 'settings'
      ? RoomAdminResults['settings']
      : O extends 'info'
        ? RoomAdminResults['info']
        : O extends 'lease_acquire' | 'lease_renew'
          ? RoomAdminResults['lease']
          : O extends 'lease_release'
            ? RoomAdminResults['released']
            : RoomAdminResults['sessionReleased'];
};

const maxAttempts = 4;
/** Entries of each kind listed by `info`, so its reply stays well inside NATS's max_payload. */
const maxListed = 1_000;

/**
 * Answers `chorus.rpc.roomAdmin`: member operations, settings, room info and edit leases. Every
 * write needs the live edit lease of what it changes (the settings, or the target member's entry)
 * held by the asking session with that fencing token, and the actor's role is read again for
 * each write, so a demoted admin's next write is refused.
 */
export class RoomAdminHandler {
  private readonly store: MemberStore;

  constructor(
    private readonly collections: Collections,
    private readonly leases: EditLeases,
    private readonly nc: NatsConnection,
    private readonly headOf: (room: string) => Promise<number>,
    private readonly limits: Pick<RoomLimits, 'beforeJoin' | 'joined'>,
  ) {
    this.store = new MemberStore(collections);
  }

  handle(request: RoomAdminRequest): Promise<ResultOf[Op]> {
    switch (request.op) {
      case 'settings':
        return this.settings(request);
      case 'info':
        return this.info(request);
      case 'lease_acquire':
        return this.acquire(request);
      case 'lease_renew':
        return this.leases.renew(request.room, request.target, holderOf(request), request.fence);
      case 'lease_release':
        return this.leases.release(request.room, request.target, holderOf(request), request.fence).then(() => ({ room: request.room, target: request.target }));
      case 'release_session':
        return this.leases.releaseSession(request.session).then((released) => ({ released }));
      default:
        return this.member(request);
    }
  }

  private async acquire(request: RequestOf<'lease_acquire'>): Promise<RoomAdminResults['lease']> {
    const room = await this.store.room(request.room);
    const editable = mayEdit((await this.store.standing(room, request.actor)).standing);
    if (!editable.ok) throw new RpcError(editable.code, editable.message);
    return this.leases.acquire(request.room, request.target, holderOf(request));
  }

  private async member(request: MemberOpRequest): Promise<MemberChange> {
    const { op, room, actor, user, fence } = request;
    await this.leases.check(room, memberTarget(user), holderOf(request), fence);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const roomDoc = await this.store.room(room);
      const [byActor, target] = await Promise.all([this.store.standing(roomDoc, actor), this.store.standing(roomDoc, user)]);
      const decision = decideMemberOp(op, byActor.standing, target.standing, actor === user);
      if (!decision.ok) throw new RpcError(decision.code, decision.message);
      const next = decision.next;
      if (op === 'transfer') {
        if (await this.transfer(room, actor, user, target.doc!, fence)) return { room, user, state: 'member', role: 'owner' };
        continue;
      }
      const becomesMember = next.state === 'member' && target.standing.state !== 'member';
      if (becomesMember) await this.limits.beforeJoin(room, user);
      const readFrom = becomesMember ? readFromAtJoin(settingsOf(roomDoc).history, await this.headOf(room)) : undefined;
      const change = {
        state: next.state,
        role: next.role === 'admin' ? ('admin' as const) : ('member' as const),
        ...(becomesMember && { joinedAt: new Date(), readFrom }),
      };
      if (await this.store.compareAndSet(room, user, target.doc, { ...change, ...(target.doc === null && { fence }) }, target.doc === null ? undefined : fence)) {
        if (op === 'remove' && target.standing.state === 'member') this.announce(room, user, 'removed');
        else if (op === 'ban') this.announce(room, user, 'banned');
        else if (becomesMember) {
          this.limits.joined(room, user);
          this.announce(room, user, 'joined');
        }
        else if (op === 'promote' || op === 'demote') this.announce(room, user, 'role');
        return { room, user, state: next.state, ...(next.state === 'member' && { role: next.role }) };
      }
    }
    throw new RpcError('unavailable', `${user}'s membership in ${room} keeps changing; try again`);
  }

  /**
   * Ownership is the room's `owner` field; the old owner stays as an admin. The new owner's entry
   * is written first under the fence (it must still be a member), the room last, conditioned on
   * the actor still being the owner.
   */
  private async transfer(room: string, from: string, to: string, target: NonNullable<Awaited<ReturnType<MemberStore['standing']>>['doc']>, fence: number): Promise<boolean> {
    if (!(await this.store.compareAndSet(room, to, target, { role: 'admin' }, fence))) return false;
    await this.collections.memberships.updateOne({ _id: `${room}/${from}`, state: 'member' }, { $set: { role: 'admin' } });
    const { matchedCount } = await this.collections.rooms.updateOne(
      { _id: room, $or: [{ owner: from }, { owner: { $exists: false }, createdBy: from }] },
      { $set: { owner: to } },
    );
    if (matchedCount === 0) throw new RpcError('forbidden', `${from} is no longer the owner of ${room}`);
    this.announce(room, to, 'role');
    return true;
  }

  private async settings(request: RequestOf<'settings'>): Promise<RoomAdminResults['settings']> {
    const { room, fence } = request;
    await this.leases.check(room, 'settings', holderOf(request), fence);
    const roomDoc = await this.store.room(room);
    const editable = mayEdit((await this.store.standing(roomDoc, request.actor)).standing);
    if (!editable.ok) throw new RpcError(editable.code, editable.message);
    const patch: Partial<RoomSettings> = Object.fromEntries(Object.entries(request.settings).filter(([, v]) => v !== undefined));
    const updated = await this.collections.rooms.findOneAndUpdate(
      { _id: room, $or: [{ settingsFence: { $exists: false } }, { settingsFence: { $lte: fence } }] },
      { $set: { ...patch, settingsFence: fence } },
      { returnDocument: 'after' },
    );
    if (!updated) throw new RpcError('stale_fence', `fencing token ${fence} is stale: the settings were written under a newer lease`);
    return { room, settings: settingsOf(updated) };
  }

  private async info({ room, actor }: RequestOf<'info'>): Promise<RoomInfo> {
    const roomDoc = await this.store.room(room);
    const me = await this.store.standing(roomDoc, actor);
    if (me.standing.state !== 'member') throw new RpcError('not_member', `${actor} is not a member of room ${room}`);
    const docs = await this.collections.memberships
      .find({ room, state: { $in: ['member', 'invited', 'banned'] } })
      .limit(maxListed * 3)
      .toArray();
    const of = (state: string) => docs.filter((d) => d.state === state).sort((a, b) => a.user.localeCompare(b.user));
    const members = of('member');
    const invites = of('invited');
    const bans = of('banned');
    return {
      room,
      settings: settingsOf(roomDoc),
      owner: ownerOf(roomDoc),
      role: me.standing.role,
      members: members.slice(0, maxListed).map((d) => ({ user: d.user, role: standingOf(roomDoc, d.user, d).role })),
      invites: invites.slice(0, maxListed).map((d) => d.user),
      bans: bans.slice(0, maxListed).map((d) => d.user),
      leases: await this.leases.held(room),
      truncated: docs.length === maxListed * 3 || [members, invites, bans].some((list) => list.length > maxListed),
    };
  }

  private announce(room: string, user: string, change: 'joined' | 'removed' | 'banned' | 'role'): void {
    announceMembership(this.nc, room, { user, change });
  }
}

function holderOf(request: { actor: string; session: string }) {
  return { user: request.actor, session: request.session };
}
