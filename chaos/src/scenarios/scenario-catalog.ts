import type { Fault } from '../faults/fault.js';
import { natsLinkFreeze } from '../faults/link-freeze.js';
import { rollingRestart } from '../faults/rolling-restart.js';
import { serverKill } from '../faults/server-kill.js';
import { serverPause } from '../faults/server-pause.js';
import { serviceCrash } from '../faults/service-crash.js';

export interface Scenario {
  name: string;
  summary: string;
  fault: Fault;
}

/** Server processes as the platform names them (local/src/servers/*). */
const nats = 'nats-server';
const redis = 'redis-server';
const mongo = 'ferretdb';
const serverDownMs = 2_000;
/** The gateways' drain window in every scenario (DRAIN_WINDOW_MS; the default 10 s would make a rolling restart slow). */
export const drainWindowMs = 5_000;

/** Every scenario: one fault per run, under steady load. */
export const scenarios: readonly Scenario[] = [
  { name: 'message-service-1-kill', summary: 'kill -9 message-service-1, restart it', fault: serviceCrash('message-service-1') },
  { name: 'message-service-2-kill', summary: 'kill -9 message-service-2, restart it', fault: serviceCrash('message-service-2') },
  { name: 'gateway-kill', summary: 'kill -9 gateway-1 (its clients move to gateway-2 and resume), restart it', fault: serviceCrash('gateway-1') },
  { name: 'nats-pause', summary: 'SIGSTOP nats-server for 8 s, then SIGCONT', fault: serverPause(nats, 8_000) },
  {
    name: 'nats-link-freeze',
    summary: "freeze gateway-1's NATS link (open, but nothing from the server reaches it) until gateway-1 reconnects by itself",
    fault: natsLinkFreeze('gateway-1', 15_000),
  },
  { name: 'redis-kill', summary: `kill -9 redis-server, restart it after ${serverDownMs / 1000} s (its data is gone)`, fault: serverKill(redis, serverDownMs) },
  { name: 'mongo-kill', summary: `kill -9 the MongoDB server (FerretDB), restart it after ${serverDownMs / 1000} s`, fault: serverKill(mongo, serverDownMs) },
  {
    name: 'gateway-drain',
    summary: `SIGTERM gateway-1, then gateway-2: each drains (its clients reconnect elsewhere over ${drainWindowMs / 1000} s), restarted and ready before the next`,
    fault: rollingRestart(['gateway-1', 'gateway-2']),
  },
  {
    name: 'rolling-restart',
    summary: 'SIGTERM each gateway and message-service in turn, each restarted and ready before the next',
    fault: rollingRestart(['gateway-1', 'gateway-2', 'message-service-1', 'message-service-2']),
  },
];

export function scenarioNamed(name: string): Scenario {
  const scenario = scenarios.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario "${name}"; one of ${scenarios.map((s) => s.name).join(', ')}`);
  return scenario;
}
