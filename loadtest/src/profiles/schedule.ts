import type { RoomPlan } from '../plan/room-plan.js';
import { randomInt, type Random } from '../plan/seeded-random.js';

/**
 * Who sends when: send i happens `atMs[i]` after the send phase starts, from user `sender[i]` to
 * room `room[i]`. Sorted by time. Typed arrays keep a million-send schedule at ~16 MB.
 */
export interface Schedule {
  count: number;
  atMs: Float64Array;
  sender: Uint32Array;
  room: Uint32Array;
}

export const profileNames = ['steady', 'ramp', 'new-year'] as const;
export type ProfileName = (typeof profileNames)[number];

export interface ProfileOptions {
  durationMs: number;
  /** Offered sends per second: the constant rate (steady), the final rate (ramp). */
  rate: number;
  /** Ramp: the rate at the start. */
  rampFromRate: number;
  /** New-year: the background rate before and after the burst. */
  quietRate: number;
  /** New-year: when the burst starts, from the start of the send phase. */
  burstAtMs: number;
  /** New-year: how long the burst lasts. */
  burstWindowMs: number;
  /** New-year: share of all users that send during the burst (each once). */
  burstFraction: number;
  /** Share of sends by a large-room member that go to the large room (the rest go to the home room). */
  largeRoomShare: number;
  seed: number;
}

/** Picks the room a user sends to: the large room with probability `largeRoomShare`, else its home room. */
export function pickRoom(plan: RoomPlan, user: number, largeRoomShare: number, random: Random): number {
  const rooms = plan.userRooms[user]!;
  const home = rooms[rooms.length - 1]!;
  if (plan.largeRoom >= 0 && rooms.length > 1 && rooms[0] === plan.largeRoom && random() < largeRoomShare) {
    return plan.largeRoom;
  }
  return home;
}

/** Collects (time, sender, room) triples and turns them into a sorted Schedule. */
export class ScheduleBuilder {
  private readonly times: number[] = [];
  private readonly senders: number[] = [];
  private readonly rooms: number[] = [];

  add(atMs: number, sender: number, room: number): void {
    this.times.push(atMs);
    this.senders.push(sender);
    this.rooms.push(room);
  }

  /** Sends at times chosen by `timeOf(k)` for k = 0..n-1, from random users. */
  addRandomSenders(n: number, timeOf: (k: number) => number, plan: RoomPlan, options: ProfileOptions, random: Random): void {
    for (let k = 0; k < n; k++) {
      const user = randomInt(random, plan.userCount);
      this.add(timeOf(k), user, pickRoom(plan, user, options.largeRoomShare, random));
    }
  }

  build(): Schedule {
    const count = this.times.length;
    const order = Array.from({ length: count }, (_, i) => i);
    order.sort((a, b) => this.times[a]! - this.times[b]! || a - b);
    const schedule: Schedule = {
      count,
      atMs: new Float64Array(count),
      sender: new Uint32Array(count),
      room: new Uint32Array(count),
    };
    order.forEach((from, to) => {
      schedule.atMs[to] = this.times[from]!;
      schedule.sender[to] = this.senders[from]!;
      schedule.room[to] = this.rooms[from]!;
    });
    return schedule;
  }
}

/** Evenly spaced times at `rate` per second over [fromMs, toMs): the k-th at the middle of its slot. */
export function evenlySpaced(rate: number, fromMs: number, toMs: number): { n: number; timeOf: (k: number) => number } {
  const n = Math.max(0, Math.round((rate * (toMs - fromMs)) / 1000));
  const spacing = n > 0 ? (toMs - fromMs) / n : 0;
  return { n, timeOf: (k) => fromMs + (k + 0.5) * spacing };
}
