import type { RoomMixEntry } from '../config/room-mix.js';

/** Who is in which room. Users and rooms are dense indexes; names are derived from the run id. */
export interface RoomPlan {
  userCount: number;
  /** Members of each room (user indexes); room 0 is the large room when there is one. */
  roomMembers: number[][];
  /** Rooms of each user: the home room, and the large room for its members. */
  userRooms: number[][];
  /** Index of the large room, or -1. */
  largeRoom: number;
}

/**
 * Builds the membership plan. Every user gets one home room; home rooms are cut from the user list
 * in the order of the mix (the last room of a size may be smaller when users run out). The first
 * `largeRoomSize` users are, in addition, members of one large room. Pure and deterministic.
 */
export function buildRoomPlan(userCount: number, mix: RoomMixEntry[], largeRoomSize: number): RoomPlan {
  if (!Number.isInteger(userCount) || userCount < 1) throw new Error('users must be a positive integer');
  if (largeRoomSize > userCount) {
    throw new Error(`the large room (${largeRoomSize} members) cannot be larger than the user count (${userCount})`);
  }
  const roomMembers: number[][] = [];
  const userRooms: number[][] = Array.from({ length: userCount }, () => []);
  let largeRoom = -1;
  if (largeRoomSize > 0) {
    largeRoom = 0;
    const members: number[] = [];
    for (let u = 0; u < largeRoomSize; u++) {
      members.push(u);
      userRooms[u]!.push(largeRoom);
    }
    roomMembers.push(members);
  }
  // Users per size class, rounded so the classes add up to exactly userCount.
  const quotas = mix.map((e) => Math.floor(e.share * userCount));
  let remainder = userCount - quotas.reduce((a, b) => a + b, 0);
  for (let i = 0; remainder > 0; i = (i + 1) % quotas.length, remainder--) quotas[i]! += 1;

  let next = 0;
  mix.forEach((entry, i) => {
    let left = quotas[i]!;
    while (left > 0) {
      const size = Math.min(entry.size, left);
      const room = roomMembers.length;
      const members: number[] = [];
      for (let k = 0; k < size; k++) {
        members.push(next);
        userRooms[next]!.push(room);
        next++;
      }
      roomMembers.push(members);
      left -= size;
    }
  });
  return { userCount, roomMembers, userRooms, largeRoom };
}
