import type { BenchTarget } from './bench-target.js';
import { startBareTarget } from './bare-target.js';
import { startCentrifugoTarget } from './peers/centrifugo-target.js';
import { startSocketIoTarget } from './peers/socketio-target.js';
import { startPlatformTarget } from './platform-target.js';

/**
 * Every row the bench can run: (a)-(c) the platform, (d) the bare broadcast floor, (e)-(f) peers,
 * (g) row (c) behind the one address `npm start` serves (cluster workers), (h) behind nginx.
 * The names are aliases for the command line (`--rows chorus,centrifugo,socketio`).
 */
export const rowKeys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
export type RowKey = (typeof rowKeys)[number];

const aliases: Record<string, RowKey> = { chorus: 'c', bare: 'd', centrifugo: 'e', socketio: 'f', 'one-address': 'g', nginx: 'h' };

/** The row that stands for Chorus against the peers: the platform as `npm start` runs it (autopilot). */
export const chorusRow: RowKey = 'c';
export const peerRows: readonly RowKey[] = ['e', 'f'];
/** The rows that put one address in front of Chorus's gateways, compared with row (c)'s own ports. */
export const oneAddressRows: readonly RowKey[] = ['g', 'h'];

/** Parses a comma-separated list of row keys or aliases, in the given order, without repeats. */
export function parseRows(list: string): RowKey[] {
  const out: RowKey[] = [];
  for (const raw of list.split(',').map((r) => r.trim().toLowerCase()).filter((r) => r.length > 0)) {
    const key = aliases[raw] ?? (rowKeys as readonly string[]).find((k) => k === raw);
    if (!key) throw new Error(`"${raw}" is not a row: use ${rowKeys.join(', ')} or ${Object.keys(aliases).join(', ')}`);
    if (!out.includes(key as RowKey)) out.push(key as RowKey);
  }
  if (out.length === 0) throw new Error('no rows given');
  return out;
}

/** Starts a fresh instance of a row's system. */
export function startRowTarget(key: RowKey): Promise<BenchTarget> {
  switch (key) {
    case 'a':
    case 'b':
    case 'c':
    case 'g':
    case 'h':
      return startPlatformTarget(key);
    case 'd':
      return startBareTarget();
    case 'e':
      return startCentrifugoTarget();
    case 'f':
      return startSocketIoTarget();
  }
}
