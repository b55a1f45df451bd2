import type { RoomPlan } from '../plan/room-plan.js';
import { newYearSchedule } from './new-year.js';
import { rampSchedule } from './ramp.js';
import type { ProfileName, ProfileOptions, Schedule } from './schedule.js';
import { steadySchedule } from './steady.js';

export function buildSchedule(profile: ProfileName, plan: RoomPlan, options: ProfileOptions): Schedule {
  switch (profile) {
    case 'steady':
      return steadySchedule(plan, options);
    case 'ramp':
      return rampSchedule(plan, options);
    case 'new-year':
      return newYearSchedule(plan, options);
  }
}
