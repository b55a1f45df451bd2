import type { RoomPlan } from '../plan/room-plan.js';
import { seededRandom } from '../plan/seeded-random.js';
import { ScheduleBuilder, type ProfileOptions, type Schedule } from './schedule.js';

/**
 * The offered rate rises linearly from `rampFromRate` to `rate` over the duration. Send k happens
 * when the cumulative count N(t) = a*t + (b-a)*t^2/(2D) reaches k + 0.5 (t, D in seconds).
 */
export function rampSchedule(plan: RoomPlan, options: ProfileOptions): Schedule {
  const random = seededRandom(options.seed);
  const builder = new ScheduleBuilder();
  const d = options.durationMs / 1000;
  const a = options.rampFromRate;
  const b = options.rate;
  const total = Math.round(((a + b) / 2) * d);
  const timeOf = (k: number): number => {
    const target = k + 0.5;
    const curvature = (b - a) / (2 * d);
    // Solve curvature*t^2 + a*t - target = 0 for t >= 0 (linear when the rate is flat).
    const t = Math.abs(curvature) < 1e-12 ? target / a : (-a + Math.sqrt(a * a + 4 * curvature * target)) / (2 * curvature);
    return Math.min(options.durationMs, t * 1000);
  };
  builder.addRandomSenders(total, timeOf, plan, options, random);
  return builder.build();
}
