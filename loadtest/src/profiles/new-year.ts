import type { RoomPlan } from '../plan/room-plan.js';
import { seededRandom } from '../plan/seeded-random.js';
import { ScheduleBuilder, evenlySpaced, pickRoom, type ProfileOptions, type Schedule } from './schedule.js';

/**
 * Midnight: a quiet background rate for the whole duration, and during the burst window nearly
 * every user (`burstFraction` of them, each once) sends at a uniformly random moment.
 */
export function newYearSchedule(plan: RoomPlan, options: ProfileOptions): Schedule {
  const random = seededRandom(options.seed);
  const builder = new ScheduleBuilder();
  const quiet = evenlySpaced(options.quietRate, 0, options.durationMs);
  builder.addRandomSenders(quiet.n, quiet.timeOf, plan, options, random);

  const burstUsers = Math.round(options.burstFraction * plan.userCount);
  // A partial Fisher-Yates shuffle picks distinct senders.
  const users = Array.from({ length: plan.userCount }, (_, i) => i);
  for (let i = 0; i < burstUsers; i++) {
    const j = i + Math.floor(random() * (plan.userCount - i));
    [users[i], users[j]] = [users[j]!, users[i]!];
    const user = users[i]!;
    const at = options.burstAtMs + random() * options.burstWindowMs;
    builder.add(at, user, pickRoom(plan, user, options.largeRoomShare, random));
  }
  return builder.build();
}
