import type { RoomPlan } from '../plan/room-plan.js';
import { seededRandom } from '../plan/seeded-random.js';
import { ScheduleBuilder, evenlySpaced, type ProfileOptions, type Schedule } from './schedule.js';

/** A constant offered rate for the whole duration, from random users. */
export function steadySchedule(plan: RoomPlan, options: ProfileOptions): Schedule {
  const random = seededRandom(options.seed);
  const builder = new ScheduleBuilder();
  const { n, timeOf } = evenlySpaced(options.rate, 0, options.durationMs);
  builder.addRandomSenders(n, timeOf, plan, options, random);
  return builder.build();
}
