import { performance } from 'node:perf_hooks';
import type { PhaseMetrics } from '../metrics/phase-metrics.js';
import type { RoomPlan } from '../plan/room-plan.js';
import { ScheduleBuilder, type ProfileOptions, type Schedule } from '../profiles/schedule.js';

/** One measured phase: a schedule of sends and how long the send phase lasts. */
export interface PhaseSpec {
  schedule: Schedule;
  durationMs: number;
  /** Shown in the report. */
  options: ProfileOptions;
}

/** Sends that fall due together go out in one tick of at most this many ms. */
const tickMs = 2;

/**
 * One message in every room, spread over `durationMs`: the first message of a room opens it on
 * every server, so a benchmark sends these before it measures steady state.
 */
export function warmUpSchedule(plan: RoomPlan, joined: (user: number, room: number) => boolean, durationMs: number, options: ProfileOptions): PhaseSpec {
  const builder = new ScheduleBuilder();
  const rooms = plan.roomMembers.length;
  plan.roomMembers.forEach((members, room) => {
    const sender = members.find((u) => joined(u, room));
    if (sender !== undefined) builder.add((room / rooms) * durationMs, sender, room);
  });
  return { schedule: builder.build(), durationMs, options: { ...options, durationMs, rate: rooms / (durationMs / 1000) } };
}

/**
 * Plays the schedule against the clock, then lets the send phase run to its configured end even
 * when the last send came earlier.
 */
export async function playSchedule(spec: PhaseSpec, metrics: PhaseMetrics, send: (sender: number, room: number) => void): Promise<void> {
  const { schedule } = spec;
  const start = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      while (next < schedule.count && schedule.atMs[next]! <= elapsed) {
        metrics.scheduleLag.recordMs(elapsed - schedule.atMs[next]!);
        send(schedule.sender[next]!, schedule.room[next]!);
        next++;
      }
      if (next >= schedule.count) resolve();
      else setTimeout(tick, Math.min(tickMs, Math.max(0, schedule.atMs[next]! - (performance.now() - start))));
    };
    tick();
  });
  const left = spec.durationMs - (performance.now() - start);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

/**
 * Waits until every send is answered and every acked message reached every member, or until
 * nothing moved for `idleTimeoutMs` (a moving backlog is slow, not lost), or `timeoutMs`. Sends
 * still unanswered then count as `no_reply`.
 */
export async function drain(
  metrics: PhaseMetrics,
  timeouts: { timeoutMs: number; idleTimeoutMs: number },
  onTick?: (expected: number, delivered: number) => void,
): Promise<void> {
  const start = performance.now();
  const deadline = start + timeouts.timeoutMs;
  let lastMoved = start;
  let lastSeen = -1;
  for (;;) {
    const { expected, delivered } = metrics.tracker.progress();
    const now = performance.now();
    const seen = delivered + metrics.acked + metrics.errors;
    if (seen !== lastSeen) {
      lastSeen = seen;
      lastMoved = now;
    }
    onTick?.(expected, delivered);
    if (metrics.pending.size === 0 && delivered >= expected) break;
    if (now >= deadline || now - lastMoved >= timeouts.idleTimeoutMs) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (metrics.pending.size > 0) {
    metrics.countError('no_reply', metrics.pending.size);
    metrics.pending.clear();
  }
}
