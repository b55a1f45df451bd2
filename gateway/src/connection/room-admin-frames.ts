import type { EditLease, MemberChange, RoomAdminRequest, RoomInfo } from '@chorus/shared/bus/payloads';
import { memberFrameTypes, type ClientFrame, type MemberFrame } from '@chorus/shared/protocol/client-frames';
import type { RoomSettings } from '@chorus/shared/protocol/room-rules';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';

export type RoomAdminFrame = Extract<ClientFrame, { type: MemberFrame['type'] | 'settings' | 'room_info' | 'lease_acquire' | 'lease_renew' | 'lease_release' }>;

const adminTypes = new Set<string>([...memberFrameTypes, 'settings', 'room_info', 'lease_acquire', 'lease_renew', 'lease_release']);

export function isRoomAdminFrame(frame: ClientFrame): frame is RoomAdminFrame {
  return adminTypes.has(frame.type);
}

/**
 * The RPC for a room-admin frame. The actor and session are this connection's: a client never
 * names who it is.
 */
export function roomAdminRequestOf(frame: RoomAdminFrame, actor: string, session: string): RoomAdminRequest {
  const { room } = frame;
  switch (frame.type) {
    case 'settings':
      return { op: 'settings', room, actor, session, fence: frame.fence, settings: frame.settings };
    case 'room_info':
      return { op: 'info', room, actor };
    case 'lease_acquire':
      return { op: 'lease_acquire', room, actor, session, target: frame.target };
    case 'lease_renew':
      return { op: 'lease_renew', room, actor, session, target: frame.target, fence: frame.fence };
    case 'lease_release':
      return { op: 'lease_release', room, actor, session, target: frame.target, fence: frame.fence };
    default:
      return { op: frame.type, room, actor, session, fence: frame.fence, user: frame.user };
  }
}

/** The reply frame for an RPC result, by the frame it answers. */
export function roomAdminReplyOf(frame: RoomAdminFrame, result: unknown): ServerFrame {
  const rid = frame.rid !== undefined ? { rid: frame.rid } : {};
  switch (frame.type) {
    case 'settings': {
      const { room, settings } = result as { room: string; settings: RoomSettings };
      return { type: 'settings', ...rid, room, settings };
    }
    case 'room_info': {
      const { leases, ...info } = result as RoomInfo;
      return { type: 'room_info', ...rid, ...info, leases: leases.map(({ target, holder, fence, expiresAt }) => ({ target, holder, fence, expiresAt })) };
    }
    case 'lease_acquire':
    case 'lease_renew': {
      const lease = result as EditLease;
      return { type: 'lease', ...rid, room: lease.room, target: lease.target, holder: lease.holder, fence: lease.fence, expiresAt: lease.expiresAt };
    }
    case 'lease_release':
      return { type: 'lease_released', ...rid, room: frame.room, target: frame.target };
    default: {
      const change = result as MemberChange;
      return { type: 'member_updated', ...rid, room: change.room, user: change.user, state: change.state, ...(change.role && { role: change.role }) };
    }
  }
}
