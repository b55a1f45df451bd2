import { z } from 'zod';
import { protocolLimits } from './limits.js';

/** Room roles, settings and edit-lease names shared by the wire protocol and the RPC payloads. */
export const roomRoles = ['owner', 'admin', 'member'] as const;
export type RoomRole = (typeof roomRoles)[number];

export const roomVisibility = z.enum(['public', 'private']);
export type RoomVisibility = z.infer<typeof roomVisibility>;
/** What a member who joins from now on may read: everything, or only messages after their join. */
export const historyVisibility = z.enum(['all', 'since_join']);
export type HistoryVisibility = z.infer<typeof historyVisibility>;

export const userName = z.string().regex(protocolLimits.userNamePattern, 'user must be 1-32 characters of A-Z a-z 0-9 _ . -');

export const roomSettingsPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(80).optional(),
    topic: z.string().max(300).optional(),
    visibility: roomVisibility.optional(),
    history: historyVisibility.optional(),
  })
  .refine((s) => Object.keys(s).length > 0, { message: 'change at least one setting' });
export type RoomSettingsPatch = z.infer<typeof roomSettingsPatch>;

export interface RoomSettings {
  name: string;
  topic: string;
  visibility: RoomVisibility;
  history: HistoryVisibility;
}

/**
 * What an edit lease covers: the room's settings, or one member's entry (`member:<user>`). One
 * lease per entry lets two admins edit different members at once, while nobody edits the same
 * entry twice.
 */
export const leaseTarget = z
  .string()
  .regex(/^(settings|member:[A-Za-z0-9_.-]{1,32})$/, 'target must be "settings" or "member:<user>"');
export type LeaseTarget = z.infer<typeof leaseTarget>;
export const memberTarget = (user: string): LeaseTarget => `member:${user}`;

/** A lease's fencing token: increases with every acquire in a room. */
export const fencingToken = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const editLeaseMs = 30_000;
