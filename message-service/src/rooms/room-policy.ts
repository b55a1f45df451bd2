import type { MemberOp, MemberState } from '@chorus/shared/bus/payloads';
import type { ErrorCode } from '@chorus/shared/protocol/error-codes';
import type { HistoryVisibility, RoomRole, RoomVisibility } from '@chorus/shared/protocol/room-rules';

/**
 * The room rules as pure decisions, kept apart from storage so each rule is tested on its own.
 * The handlers read the current state, ask here, and write the answer with a conditional update
 * on the state they read, so a decision never lands on a state it was not made for.
 */

/** Where a user stands: their state and, for members, their role (owner comes from the room). */
export interface Standing {
  state: MemberState;
  role: RoomRole;
}

export type Decision = { ok: true; next: Standing } | { ok: false; code: ErrorCode; message: string };

const refuse = (code: ErrorCode, message: string): Decision => ({ ok: false, code, message });
const rank: Record<RoomRole, number> = { member: 0, admin: 1, owner: 2 };

export function isAdmin(actor: Standing | undefined): boolean {
  return actor?.state === 'member' && rank[actor.role] >= rank.admin;
}

/** Who may hold an edit lease and change settings: admins and the owner. */
export function mayEdit(actor: Standing | undefined): Decision {
  if (actor?.state !== 'member') return refuse('not_member', 'you are not a member of this room');
  if (!isAdmin(actor)) return refuse('forbidden', 'only admins and the owner edit a room');
  return { ok: true, next: actor };
}

/**
 * The effect of an admin's operation on a target user. Admins manage members; only the owner
 * manages admins, demotes and transfers; nobody removes, bans or demotes the owner.
 */
export function decideMemberOp(op: MemberOp, actor: Standing | undefined, target: Standing, targetIsActor: boolean): Decision {
  const editable = mayEdit(actor);
  if (!editable.ok) return editable;
  const actorRole = actor!.role;
  if (targetIsActor && op !== 'invite' && op !== 'add') return refuse('forbidden', `you cannot ${op} yourself${op === 'remove' ? '; leave instead' : ''}`);
  const targetMember = target.state === 'member';
  if (targetMember && target.role === 'owner' && op !== 'invite' && op !== 'add') {
    return refuse('forbidden', `the owner cannot be the target of ${op}`);
  }
  if (targetMember && target.role === 'admin' && actorRole !== 'owner' && (op === 'remove' || op === 'ban' || op === 'demote')) {
    return refuse('forbidden', `only the owner can ${op} an admin`);
  }
  switch (op) {
    case 'invite':
      if (targetMember) return refuse('already_member', 'the user is already a member');
      if (target.state === 'banned') return refuse('banned', 'the user is banned; unban first');
      return { ok: true, next: { state: 'invited', role: 'member' } };
    case 'add':
      if (targetMember) return refuse('already_member', 'the user is already a member');
      if (target.state === 'banned') return refuse('banned', 'the user is banned; unban first');
      return { ok: true, next: { state: 'member', role: 'member' } };
    case 'remove':
      // Removing an invitee withdraws the invite.
      if (!targetMember && target.state !== 'invited') return refuse('not_member', 'the user is not a member');
      return { ok: true, next: { state: 'none', role: 'member' } };
    case 'ban':
      return { ok: true, next: { state: 'banned', role: 'member' } };
    case 'unban':
      return { ok: true, next: target.state === 'banned' ? { state: 'none', role: 'member' } : target };
    case 'promote':
      if (!targetMember) return refuse('not_member', 'the user is not a member');
      return { ok: true, next: { state: 'member', role: 'admin' } };
    case 'demote':
      if (actorRole !== 'owner') return refuse('forbidden', 'only the owner demotes admins');
      if (!targetMember) return refuse('not_member', 'the user is not a member');
      return { ok: true, next: { state: 'member', role: 'member' } };
    case 'transfer':
      if (actorRole !== 'owner') return refuse('forbidden', 'only the owner transfers ownership');
      if (!targetMember) return refuse('not_member', 'ownership goes to a member only');
      return { ok: true, next: { state: 'member', role: 'owner' } };
  }
}

/** The owner leaves only after handing the room over, so a room always has an owner who is in it. */
export function decideLeave(user: Standing | undefined): Decision {
  if (user?.state !== 'member') return refuse('not_member', 'you are not a member of this room');
  if (user.role === 'owner') return refuse('owner_must_transfer', 'the owner cannot leave; transfer ownership to a member first');
  return { ok: true, next: { state: 'none', role: 'member' } };
}

/** Joining by oneself: anyone may join a public room, an invitee a private one; a ban keeps everyone out. */
export function decideJoin(visibility: RoomVisibility, user: Standing | undefined): Decision | 'already_member' {
  if (user?.state === 'member') return 'already_member';
  if (user?.state === 'banned') return refuse('banned', 'you are banned from this room');
  if (visibility === 'private' && user?.state !== 'invited') return refuse('not_invited', 'this room is private; ask an admin for an invite');
  return { ok: true, next: { state: 'member', role: 'member' } };
}

/** A new member reads the messages after this position: all of them, or those after their join. */
export function readFromAtJoin(history: HistoryVisibility, head: number): number {
  return history === 'since_join' ? head : 0;
}
