import type { RunSettings } from './run-scenario.js';

type Profile = Omit<RunSettings, 'protocol' | 'keepData' | 'progress'>;

/** `npm run chaos`: 200 users in 20 rooms of 10 on 2 gateways, 300 sends/s; a scenario takes about 30-40 s. */
export const fullProfile: Profile = {
  shape: { users: 200, roomSize: 10, sendsPerSecond: 300 },
  warmupSeconds: 5,
  loadSeconds: 20,
  afterFaultSeconds: 5,
  drainSeconds: 30,
};

/** The short version inside `npm test`: half the users and rate, a shorter send phase. */
export const shortProfile: Profile = {
  shape: { users: 100, roomSize: 10, sendsPerSecond: 150 },
  warmupSeconds: 3,
  loadSeconds: 10,
  afterFaultSeconds: 3,
  drainSeconds: 15,
};
