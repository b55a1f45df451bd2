import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@chorus/shared/logging/logger';
import { drainSockets, type DrainableConnection } from '../src/lifecycle/socket-drain.js';

const log = createLogger('test');
log.level = 'silent';

/** A connection that records what the drain asked of it; `stays` ones never close. */
class FakeConnection implements DrainableConnection {
  afterMs: number | undefined;
  closedAt: number | undefined;
  constructor(private readonly sockets: Set<FakeConnection>, private readonly onEmpty: () => void, private readonly clock: () => number, private readonly stays = false) {}
  announceReconnect(afterMs: number): void {
    this.afterMs = afterMs;
  }
  async closeAfterAnswers(): Promise<void> {
    this.closedAt = this.clock();
    if (this.stays) return;
    this.sockets.delete(this);
    if (this.sockets.size === 0) this.onEmpty();
  }
}

function fleet(count: number, clock: () => number, staying = 0) {
  const sockets = new Set<FakeConnection>();
  let resolve!: () => void;
  const allClosed = new Promise<void>((r) => (resolve = r));
  const all = Array.from({ length: count }, (_, i) => new FakeConnection(sockets, () => resolve(), clock, i < staying));
  for (const c of all) sockets.add(c);
  return { sockets, allClosed, all };
}

test('every socket gets its own delay within the window, and is closed only after it plus the grace', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const clock = () => now;
  const { sockets, allClosed, all } = fleet(5, clock);
  const draws = [0, 0.25, 0.5, 0.75, 0.999];
  let i = 0;
  const done = drainSockets(sockets, allClosed, { windowMs: 1_000, graceMs: 200, timeoutMs: 5_000 }, log, () => draws[i++]!);
  assert.deepEqual(all.map((c) => c.afterMs), [0, 250, 500, 750, 999], 'spread over the window, announced at once');
  const advance = (ms: number) => {
    for (let k = 0; k < ms; k++) {
      now++;
      t.mock.timers.tick(1);
    }
  };
  advance(199);
  assert.ok(all.every((c) => c.closedAt === undefined), 'no socket is closed before its delay plus the grace');
  advance(1_001);
  const outcome = await done;
  assert.deepEqual(all.map((c) => c.closedAt), [200, 450, 700, 950, 1_199]);
  assert.equal(outcome.announced, 5);
  assert.equal(outcome.leftOpen, 0);
});

test('the drain ends at its timeout even if a socket never closes', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { sockets, allClosed } = fleet(3, () => 0, 1);
  const done = drainSockets(sockets, allClosed, { windowMs: 0, graceMs: 0, timeoutMs: 3_000 }, log, () => 0);
  t.mock.timers.tick(0);
  await Promise.resolve();
  assert.equal(sockets.size, 1, 'the two that could close did');
  t.mock.timers.tick(3_000);
  const outcome = await done;
  assert.equal(outcome.leftOpen, 1);
});
