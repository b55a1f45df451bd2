import { performance } from 'node:perf_hooks';
import { decodeSentAtMs, encodeMessageText } from '../../client/message-text.js';
import { PhaseMetrics } from '../../metrics/phase-metrics.js';
import { buildRoomPlan, type RoomPlan } from '../../plan/room-plan.js';
import { buildSchedule } from '../../profiles/build-schedule.js';
import type { ProfileName, ProfileOptions } from '../../profiles/schedule.js';
import { forEachWithConcurrency } from '../../run/concurrency.js';
import { drain as drainPhase, playSchedule, warmUpSchedule } from '../../run/phase-steps.js';
import type { RunHooks } from '../../run/load-run.js';
import type { PhaseSpec } from '../../run/phase-steps.js';
import type { RunConfig } from '../../run/run-config.js';
import type { LoadDriver, StepReport } from '../load-driver.js';
import { PeerError, type PeerConnection, type PeerProtocol, type PeerSink } from './peer-protocol.js';
import { SenderOrder } from './sender-order.js';

interface PeerUser {
  index: number;
  name: string;
  endpoint: string;
  conn: PeerConnection | undefined;
  roomIndexes: number[];
  roomSlots: number[];
  sendCounter: number;
  closedByUs: boolean;
}

/**
 * The bench's load run against a peer system, the same plan, schedule and accounting as the Chorus
 * load tester (`LoadRun`): the room plan and schedules from the scenario, a DeliveryTracker per
 * phase (every acked message owed to every member, duplicates and order checked), latencies from
 * the send time embedded in each text, and the same drain rule. Only the wire protocol differs,
 * and that lives in the PeerProtocol.
 */
export class PeerLoadRun implements LoadDriver, PeerSink {
  private readonly plan: RoomPlan;
  private readonly users: PeerUser[];
  private readonly roomNames: string[];
  private readonly roomIndexByName = new Map<string, number>();
  private readonly roomMemberCount: number[];
  private readonly connectFailures: Record<string, number> = {};
  private readonly setupErrors: Record<string, number> = {};
  private metrics: PhaseMetrics;
  /** Systems without a per-room position: arrivals per receiver slot, and per-sender order. */
  private arrivals: number[] = [];
  private senderOrder = new SenderOrder();
  private measuring = false;
  /** Deliveries of the current phase that carried the system's per-room position. */
  deliveriesWithPosition = 0;
  private measuredPhases = 0;

  constructor(
    private readonly config: RunConfig,
    private readonly protocol: PeerProtocol,
    private readonly hooks: RunHooks = {},
  ) {
    this.plan = buildRoomPlan(config.users, config.roomMix, config.largeRoomSize);
    this.roomNames = this.plan.roomMembers.map((_, i) =>
      i === this.plan.largeRoom ? `lt-${config.runId}-large` : `lt-${config.runId}-${i}`,
    );
    this.roomNames.forEach((name, i) => this.roomIndexByName.set(name, i));
    this.roomMemberCount = this.plan.roomMembers.map(() => 0);
    this.metrics = new PhaseMetrics(this.roomNames.length, performance.now());
    this.users = Array.from({ length: config.users }, (_, i) => ({
      index: i,
      name: `lt${config.runId}-${i}`,
      endpoint: config.gateways[i % config.gateways.length]!,
      conn: undefined,
      roomIndexes: [],
      roomSlots: [],
      sendCounter: 0,
      closedByUs: false,
    }));
  }

  schedulePhase(options: ProfileOptions = this.config.schedule, profile: ProfileName = this.config.profile): PhaseSpec {
    return { schedule: buildSchedule(profile, this.plan, options), durationMs: options.durationMs, options };
  }

  /** One message in every room over `durationMs`, as the Chorus load run warms up. */
  warmUpPhase(durationMs: number): PhaseSpec {
    return warmUpSchedule(this.plan, (u, room) => this.users[u]!.roomIndexes.includes(room), durationMs, this.config.schedule);
  }

  async setup(): Promise<void> {
    await forEachWithConcurrency(this.users, this.config.connectConcurrency, async (user) => {
      try {
        user.conn = await this.protocol.connect({
          user: user.index,
          name: user.name,
          endpoint: user.endpoint,
          sink: this,
          timeoutMs: this.config.connectTimeoutMs,
        });
      } catch (error) {
        const code = error instanceof PeerError ? error.code : 'connect_error';
        this.connectFailures[code] = (this.connectFailures[code] ?? 0) + 1;
      }
    });
    const memberships: [number, number][] = [];
    this.plan.roomMembers.forEach((members, room) => {
      for (const u of members) memberships.push([u, room]);
    });
    await forEachWithConcurrency(memberships, this.config.joinConcurrency, async ([u, room]) => {
      const user = this.users[u]!;
      if (!user.conn?.open) return;
      try {
        await user.conn.join(this.roomNames[room]!, this.config.requestTimeoutMs);
        user.roomIndexes.push(room);
        this.roomMemberCount[room]!++;
      } catch (error) {
        const code = `join_${error instanceof PeerError ? error.code : 'error'}`;
        this.setupErrors[code] = (this.setupErrors[code] ?? 0) + 1;
      }
    });
  }

  async measure(spec: PhaseSpec): Promise<StepReport> {
    const metrics = new PhaseMetrics(this.roomNames.length, performance.now());
    if (this.measuredPhases++ === 0) {
      for (const [code, n] of Object.entries(this.setupErrors)) metrics.countError(code, n);
    }
    for (const user of this.users) {
      user.roomSlots.length = 0;
      for (const room of user.roomIndexes) user.roomSlots.push(metrics.tracker.addReceiver(room));
    }
    this.metrics = metrics;
    this.arrivals = [];
    this.senderOrder = new SenderOrder();
    this.deliveriesWithPosition = 0;
    this.measuring = true;
    this.hooks.onSendPhaseStart?.();
    const sendStart = performance.now();
    await playSchedule(spec, this.metrics, (sender, room) => this.sendOne(sender, room));
    await this.drain();
    const drained = performance.now();
    this.hooks.onDrained?.();
    this.measuring = false;
    if (this.senderOrder.malformed > 0) metrics.countError('malformed_message_id', this.senderOrder.malformed);
    const totals = metrics.tracker.totals();
    const sendSeconds = Math.max(spec.durationMs / 1000, 1e-3);
    return {
      connections: { failed: Object.values(this.connectFailures).reduce((a, b) => a + b, 0), failuresByCode: this.connectFailures },
      messages: { sent: metrics.sent, acked: metrics.acked, skipped: metrics.skipped, errors: metrics.errors, errorsByCode: metrics.errorsByCode },
      deliveries: {
        expected: totals.expected,
        delivered: totals.delivered,
        lost: totals.lost,
        duplicates: totals.duplicates,
        orderViolations: totals.orderViolations + this.senderOrder.violations,
      },
      latency: { ackMs: metrics.ackLatency.summary(), deliveryMs: metrics.deliveryLatency.summary() },
      throughput: {
        offeredPerSec: Math.round((metrics.sent / sendSeconds) * 100) / 100,
        deliveredPerSec: Math.round((totals.delivered / Math.max((drained - sendStart) / 1000, 1e-3)) * 100) / 100,
      },
    };
  }

  async close(): Promise<void> {
    this.measuring = false;
    const open = this.users.filter((u) => u.conn && !u.conn.closed);
    for (const user of open) {
      user.closedByUs = true;
      user.conn!.close();
    }
    const deadline = performance.now() + 3000;
    while (open.some((u) => !u.conn!.closed) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const user of open) user.conn!.terminate();
  }

  // ---- phases ----------------------------------------------------------------------------------

  private sendOne(userIndex: number, room: number): void {
    const metrics = this.metrics;
    const user = this.users[userIndex]!;
    if (!user.conn?.open || !user.roomIndexes.includes(room)) {
      metrics.skipped++;
      return;
    }
    const clientMsgId = `m${user.index.toString(36)}.${(user.sendCounter++).toString(36)}`;
    const now = performance.now();
    if (!user.conn.send(this.roomNames[room]!, clientMsgId, encodeMessageText(now, this.config.messageSize))) {
      metrics.skipped++;
      return;
    }
    metrics.pending.set(clientMsgId, { room, sentAtMs: now });
    metrics.sent++;
    metrics.series.count('sent', now);
  }

  /** Same rule as the Chorus load run: until everything owed arrived, the timeout, or 15 s idle. */
  private drain(): Promise<void> {
    return drainPhase(this.metrics, { timeoutMs: this.config.drainTimeoutMs, idleTimeoutMs: this.config.drainIdleTimeoutMs });
  }

  // ---- sink ------------------------------------------------------------------------------------

  onAck(_user: number, clientMsgId: string, receivedAtMs: number): void {
    const metrics = this.metrics;
    const pending = metrics.pending.get(clientMsgId);
    if (!pending) return;
    metrics.pending.delete(clientMsgId);
    const latency = receivedAtMs - pending.sentAtMs;
    metrics.ackLatency.recordMs(latency);
    metrics.series.ackLatency(latency, receivedAtMs);
    metrics.acked++;
    metrics.tracker.onAck(pending.room, clientMsgId, this.roomMemberCount[pending.room]!);
  }

  onSendError(_user: number, clientMsgId: string, code: string, message: string): void {
    this.metrics.pending.delete(clientMsgId);
    this.metrics.countError(code, 1, message);
  }

  onMessage(userIndex: number, roomName: string, id: string, seq: number | undefined, text: string, receivedAtMs: number): void {
    const metrics = this.metrics;
    const room = this.roomIndexByName.get(roomName);
    if (room === undefined) return;
    const user = this.users[userIndex]!;
    const k = user.roomIndexes.indexOf(room);
    if (k < 0) {
      metrics.countError('message_for_unjoined_room');
      return;
    }
    const slot = user.roomSlots[k]!;
    // No per-room position: the tracker's room-order check is satisfied by arrival order, and
    // what the system does promise (each sender's order) is checked instead.
    // Centrifugo's offsets and the arrival count are both consecutive: the previous one is one less.
    const position = seq ?? (this.arrivals[slot] = (this.arrivals[slot] ?? -1) + 1);
    if (metrics.tracker.onDelivery(slot, id, position, position - 1) === 'duplicate') return;
    if (seq === undefined) this.senderOrder.onDelivery(slot, id);
    else this.deliveriesWithPosition++;
    const sentAt = decodeSentAtMs(text);
    if (sentAt === undefined) {
      metrics.series.count('delivered', receivedAtMs);
      return;
    }
    const latency = receivedAtMs - sentAt;
    metrics.deliveryLatency.recordMs(latency);
    metrics.series.deliveryLatency(latency, receivedAtMs);
  }

  onBadFrame(_user: number, reason: string): void {
    this.metrics.countError('bad_frame', 1, reason);
  }

  onClose(userIndex: number, code: number): void {
    const user = this.users[userIndex]!;
    if (user.closedByUs || !this.measuring) return;
    this.metrics.dropped++;
    this.metrics.countError(`socket_closed_${code}`);
  }
}
