import { performance } from 'node:perf_hooks';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { closeCodes } from '@chorus/shared/protocol/close-codes';
import { gatewayEndpoint, type GatewayEndpoint } from '../client/gateway-url.js';
import { LoginClient, LoginError } from '../client/login.js';
import { decodeSentAtMs, encodeMessageText } from '../client/message-text.js';
import { ConnectError, SimUser, type FrameSink } from '../client/sim-user.js';
import { LatencyHistogram } from '../metrics/latency-histogram.js';
import { PhaseMetrics } from '../metrics/phase-metrics.js';
import { buildRoomPlan, type RoomPlan } from '../plan/room-plan.js';
import { buildSchedule } from '../profiles/build-schedule.js';
import type { ProfileName, ProfileOptions } from '../profiles/schedule.js';
import { silentProgress, type LiveStats, type ProgressReporter } from '../progress/progress-reporter.js';
import type { LoadReport } from '../report/report-types.js';
import { evaluateSlo } from '../report/slo.js';
import { forEachWithConcurrency } from './concurrency.js';
import { drain as drainPhase, playSchedule, warmUpSchedule, type PhaseSpec } from './phase-steps.js';
import type { RunConfig } from './run-config.js';

type Phase = 'connect' | 'join' | 'send' | 'drain' | 'done';

/** Optional callbacks around the measured part of a run (the bench reads process CPU at these points). */
export interface RunHooks {
  onSendPhaseStart?(): void;
  onDrained?(): void;
}

/** What one measured phase (send + drain) covers. */

/**
 * One load-test run: connect every user, build the rooms, play the schedule, wait for the
 * deliveries owed, and account for every frame. All timing is on this process's monotonic clock.
 * `run()` does it all once; the bench calls `setup()`, then `measure()` per step, then `close()`.
 */
export class LoadRun implements FrameSink {
  private readonly plan: RoomPlan;
  private readonly endpoints: GatewayEndpoint[];
  private readonly users: SimUser[];
  private readonly roomNames: string[];
  private readonly roomIndexByName = new Map<string, number>();
  private readonly roomMemberCount: number[];
  private readonly connectLatency = new LatencyHistogram();
  private readonly connectFailures: Record<string, number> = {};
  /** Errors while setting up (joins); reported with the first phase. */
  private readonly setupErrors: Record<string, number> = {};
  private metrics: PhaseMetrics;
  private phase: Phase = 'connect';
  private connected = 0;
  private joinsDone = 0;
  private peakRss = 0;
  private setupSeconds = { connect: 0, join: 0 };
  private memoryPerUser = { rss: 0, heapUsed: 0 };
  private measuredPhases = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: RunConfig,
    private readonly progress: ProgressReporter = silentProgress,
    private readonly hooks: RunHooks = {},
  ) {
    this.plan = buildRoomPlan(config.users, config.roomMix, config.largeRoomSize);
    this.endpoints = config.gateways.map(gatewayEndpoint);
    this.roomNames = this.plan.roomMembers.map((_, i) =>
      i === this.plan.largeRoom ? `lt-${config.runId}-large` : `lt-${config.runId}-${i}`,
    );
    this.roomNames.forEach((name, i) => this.roomIndexByName.set(name, i));
    this.roomMemberCount = this.plan.roomMembers.map(() => 0);
    this.metrics = new PhaseMetrics(this.roomNames.length, performance.now());
    this.users = Array.from(
      { length: config.users },
      (_, i) => new SimUser(i, `lt${config.runId}-${i}`, i % this.endpoints.length, this),
    );
  }

  /** The profile's schedule over this run's rooms, as the CLI runs it. */
  schedulePhase(options: ProfileOptions = this.config.schedule, profile: ProfileName = this.config.profile): PhaseSpec {
    return { schedule: buildSchedule(profile, this.plan, options), durationMs: options.durationMs, options };
  }

  /**
   * One message in every room, spread over `durationMs`: the first message of a room opens it on
   * every gateway, so a benchmark sends these before it measures steady state.
   */
  warmUpPhase(durationMs: number): PhaseSpec {
    return warmUpSchedule(this.plan, (u, room) => this.users[u]!.roomIndexes.includes(room), durationMs, this.config.schedule);
  }

  async run(): Promise<LoadReport> {
    const phase = this.schedulePhase();
    try {
      await this.setup();
      return await this.measure(phase);
    } finally {
      await this.close();
    }
  }

  /** Connects every user and joins every room. */
  async setup(): Promise<void> {
    this.sampler ??= setInterval(() => this.sample(), 1000);
    const memoryBefore = process.memoryUsage();
    const t0 = performance.now();
    await this.connectAll();
    const tConnected = performance.now();
    this.phase = 'join';
    await this.joinAll();
    for (const user of this.users) user.endSetup();
    const memoryAfter = process.memoryUsage();
    this.setupSeconds = { connect: (tConnected - t0) / 1000, join: (performance.now() - tConnected) / 1000 };
    this.memoryPerUser = {
      rss: this.connected > 0 ? Math.round((memoryAfter.rss - memoryBefore.rss) / this.connected) : 0,
      heapUsed: this.connected > 0 ? Math.round((memoryAfter.heapUsed - memoryBefore.heapUsed) / this.connected) : 0,
    };
  }

  /** Plays one schedule over the set-up connections, drains, and reports on that phase alone. */
  async measure(spec: PhaseSpec): Promise<LoadReport> {
    const startedAt = new Date().toISOString();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const metrics = new PhaseMetrics(this.roomNames.length, performance.now());
    if (this.measuredPhases === 0) {
      for (const [code, n] of Object.entries(this.setupErrors)) metrics.countError(code, n);
    }
    this.measuredPhases++;
    // Receivers are registered per phase: each phase's tracker starts clean.
    for (const user of this.users) {
      user.roomSlots.length = 0;
      for (const room of user.roomIndexes) user.roomSlots.push(metrics.tracker.addReceiver(room));
    }
    this.metrics = metrics;
    this.phase = 'send';
    this.hooks.onSendPhaseStart?.();
    const sendStart = performance.now();
    this.progress.phase('send', spec.schedule.count);
    await playSchedule(spec, this.metrics, (sender, room) => this.sendOne(sender, room));
    const tSent = performance.now();
    this.phase = 'drain';
    await this.drain();
    const tDrained = performance.now();
    this.hooks.onDrained?.();
    this.phase = 'done';
    this.sample();
    const cpu = process.cpuUsage(cpu0);
    return this.buildReport(spec, {
      startedAt,
      phases: {
        connect: this.setupSeconds.connect,
        join: this.setupSeconds.join,
        send: (tSent - sendStart) / 1000,
        drain: (tDrained - tSent) / 1000,
        total: this.setupSeconds.connect + this.setupSeconds.join + (tDrained - sendStart) / 1000,
      },
      sendStart,
      lastActivity: tDrained,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      eventLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
    });
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    this.phase = 'done';
    await this.closeAll();
    this.progress.stop();
  }

  // ---- phases ----------------------------------------------------------------------------------

  private async connectAll(): Promise<void> {
    this.progress.phase('connect', this.users.length);
    const logins = new LoginClient();
    await forEachWithConcurrency(this.users, this.config.connectConcurrency, async (user) => {
      const endpoint = this.endpoints[user.gateway]!;
      const start = performance.now();
      try {
        const token = await logins.login(endpoint.loginUrl, user.name, this.config.connectTimeoutMs);
        await user.connect(endpoint.wsUrl, token, this.config.connectTimeoutMs);
        this.connectLatency.recordMs(performance.now() - start);
        this.connected++;
      } catch (error) {
        const code = error instanceof ConnectError || error instanceof LoginError ? error.code : 'connect_error';
        this.connectFailures[code] = (this.connectFailures[code] ?? 0) + 1;
      }
    });
    logins.close();
  }

  /** Creates each room with its first member, then joins everyone else; members count once joined. */
  private async joinAll(): Promise<void> {
    const memberships = this.plan.roomMembers.reduce((n, m) => n + m.length, 0);
    this.progress.phase('join', memberships);
    const creators = this.plan.roomMembers.map((members) => members.find((u) => this.users[u]!.open));
    await forEachWithConcurrency(this.plan.roomMembers, this.config.joinConcurrency, async (_members, room) => {
      const creator = creators[room];
      if (creator !== undefined) await this.joinRoom(this.users[creator]!, room, true);
      this.joinsDone++;
    });
    const rest: [number, number][] = [];
    this.plan.roomMembers.forEach((members, room) => {
      for (const u of members) if (u !== creators[room]) rest.push([u, room]);
    });
    await forEachWithConcurrency(rest, this.config.joinConcurrency, async ([u, room]) => {
      await this.joinRoom(this.users[u]!, room, false);
      this.joinsDone++;
    });
    this.progress.update(this.joinsDone, this.liveStats());
  }

  private async joinRoom(user: SimUser, room: number, create: boolean): Promise<void> {
    if (!user.open) return;
    const name = this.roomNames[room]!;
    try {
      let reply = await user.request({ type: create ? 'create' : 'join', room: name }, this.config.requestTimeoutMs);
      if (reply.type === 'error' && reply.code === 'room_exists') {
        reply = await user.request({ type: 'join', room: name }, this.config.requestTimeoutMs);
      }
      reply = await this.retryJoin(user, { type: 'join', room: name }, reply);
      if (reply.type === 'joined') {
        user.roomIndexes.push(room);
        user.roomLastPos.push(reply.head);
        this.roomMemberCount[room]!++;
      } else {
        this.countSetupError(reply.type === 'error' ? `join_${reply.code}` : `join_unexpected_${reply.type}`);
      }
    } catch {
      this.countSetupError('join_timeout');
    }
  }

  /** `unavailable` and `rate_limited` mean "try again" (protocol.md): sends `join` again, with backoff. */
  private async retryJoin(user: SimUser, join: Record<string, unknown>, first: ServerFrame): Promise<ServerFrame> {
    let reply = first;
    for (let attempt = 1; attempt <= joinRetries && reply.type === 'error' && retryable(reply); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, reply.type === 'error' && reply.retryAfterMs ? reply.retryAfterMs : 100 * 2 ** attempt));
      reply = await user.request(join, this.config.requestTimeoutMs);
    }
    return reply;
  }

  private countSetupError(code: string): void {
    this.setupErrors[code] = (this.setupErrors[code] ?? 0) + 1;
  }

  private sendOne(userIndex: number, room: number): void {
    const metrics = this.metrics;
    const user = this.users[userIndex]!;
    if (!user.ready || !user.roomIndexes.includes(room)) {
      metrics.skipped++;
      return;
    }
    const clientMsgId = `m${user.index.toString(36)}.${(user.sendCounter++).toString(36)}`;
    const now = performance.now();
    const text = encodeMessageText(now, this.config.messageSize);
    // Built by hand: every part is from a known-safe alphabet, and this is the hottest path.
    user.sendText(
      `{"type":"send","rid":"${clientMsgId}","room":"${this.roomNames[room]}","clientMsgId":"${clientMsgId}","text":"${text}"}`,
    );
    user.unanswered++;
    metrics.pending.set(clientMsgId, { room, sentAtMs: now });
    metrics.sent++;
    metrics.series.count('sent', now);
  }

  /**
   * Waits until every send is answered and every owed delivery arrived. Gives up after the drain
   * timeout, or earlier when nothing has arrived for the idle timeout: a backlog that is still
   * moving is slow, not lost, and gets its time.
   */
  private async drain(): Promise<void> {
    await drainPhase(this.metrics, { timeoutMs: this.config.drainTimeoutMs, idleTimeoutMs: this.config.drainIdleTimeoutMs }, (expected, delivered) => {
      this.progress.phase('drain', expected);
      this.progress.update(delivered, this.liveStats());
    });
  }

  private async closeAll(): Promise<void> {
    const open = this.users.filter((u) => u.open);
    for (const user of open) user.close();
    const deadline = performance.now() + 3000;
    while (open.some((u) => u.ws && u.ws.readyState !== u.ws.CLOSED) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const user of open) user.ws?.terminate();
  }

  // ---- frames ----------------------------------------------------------------------------------

  onFrame(user: SimUser, frame: ServerFrame, receivedAtMs: number): void {
    const metrics = this.metrics;
    switch (frame.type) {
      case 'message': {
        const room = this.roomIndexByName.get(frame.room);
        if (room === undefined) return;
        const k = user.roomIndexes.indexOf(room);
        if (k < 0) {
          metrics.countError('message_for_unjoined_room');
          return;
        }
        user.roomLastPos[k] = Math.max(user.roomLastPos[k]!, frame.pos);
        if (metrics.tracker.onDelivery(user.roomSlots[k]!, frame.id, frame.pos, frame.prev) === 'duplicate') return;
        const sentAt = decodeSentAtMs(frame.text);
        if (sentAt === undefined) {
          metrics.series.count('delivered', receivedAtMs);
          return;
        }
        const latency = receivedAtMs - sentAt;
        metrics.deliveryLatency.recordMs(latency);
        metrics.series.deliveryLatency(latency, receivedAtMs);
        return;
      }
      case 'ack': {
        const pending = metrics.pending.get(frame.clientMsgId);
        if (!pending) return;
        metrics.pending.delete(frame.clientMsgId);
        user.answered();
        const latency = receivedAtMs - pending.sentAtMs;
        metrics.ackLatency.recordMs(latency);
        metrics.series.ackLatency(latency, receivedAtMs);
        metrics.acked++;
        metrics.tracker.onAck(pending.room, frame.id, this.roomMemberCount[pending.room]!);
        return;
      }
      case 'error': {
        if (typeof frame.rid === 'string' && metrics.pending.delete(frame.rid)) user.answered();
        metrics.countError(frame.code, 1, frame.message);
        metrics.series.count('errors', receivedAtMs);
        return;
      }
      default:
        return;
    }
  }

  onClose(user: SimUser, code: number): void {
    if (user.closedByUs || user.resuming || this.phase === 'connect') return;
    // Left a draining gateway by its reconnect frame, or it closed us after answering our sends.
    if (user.leftDrainingGateway || code === closeCodes.draining) {
      void this.reconnect(user);
      return;
    }
    this.metrics.dropped++;
    this.metrics.countError(`socket_closed_${code}`);
  }

  onDrainNotice(): void {
    this.metrics.drainNotices++;
  }

  /**
   * Connects a user that left a draining gateway to the next gateway in the list (a refused one,
   * still draining, is skipped) with the same token, then resumes each room with `join` + `after` =
   * the last position it holds there: the gateway sends what it missed, then live messages.
   */
  private async reconnect(user: SimUser): Promise<void> {
    user.resuming = true;
    try {
      let connected = false;
      for (let attempt = 0; attempt < reconnectAttempts && !connected && this.phase !== 'done'; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)));
        user.gateway = (user.gateway + 1) % this.endpoints.length;
        connected = await user.connect(this.endpoints[user.gateway]!.wsUrl, user.token, this.config.connectTimeoutMs).then(
          () => true,
          () => false,
        );
      }
      if (this.phase === 'done') {
        if (connected) user.close();
        return;
      }
      if (!connected) {
        this.metrics.dropped++;
        this.metrics.countError('reconnect_failed');
        return;
      }
      await Promise.all(user.roomIndexes.map((room, k) => this.resumeRoom(user, room, user.roomLastPos[k]!)));
      user.endSetup();
      if (user.open) this.metrics.reconnects++;
      else {
        this.metrics.dropped++;
        this.metrics.countError('socket_closed_while_resuming');
      }
    } finally {
      user.resuming = false;
    }
  }

  private async resumeRoom(user: SimUser, room: number, after: number): Promise<void> {
    const join = { type: 'join', room: this.roomNames[room]!, after };
    try {
      const reply = await this.retryJoin(user, join, await user.request(join, this.config.requestTimeoutMs));
      if (reply.type !== 'joined') this.metrics.countError(reply.type === 'error' ? `resume_${reply.code}` : `resume_unexpected_${reply.type}`);
    } catch {
      this.metrics.countError('resume_timeout');
    }
  }

  // ---- progress and report ---------------------------------------------------------------------

  private sample(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    const stats = this.liveStats();
    if (this.phase === 'connect') this.progress.update(this.connected + this.failedConnections(), stats);
    else if (this.phase === 'join') this.progress.update(this.joinsDone, stats);
    else if (this.phase === 'send') this.progress.update(this.metrics.sent + this.metrics.skipped, stats);
  }

  private liveStats(): LiveStats {
    const last = this.metrics.series.last();
    return {
      connected: this.connected,
      sentPerSec: last?.sent ?? 0,
      ackedPerSec: last?.acked ?? 0,
      deliveredPerSec: last?.delivered ?? 0,
      deliveryP99Ms: last?.deliveryP99 ?? 0,
      errors: this.metrics.errors,
    };
  }

  private failedConnections(): number {
    return Object.values(this.connectFailures).reduce((a, b) => a + b, 0);
  }

  private buildReport(
    spec: PhaseSpec,
    run: {
      startedAt: string;
      phases: LoadReport['phasesSeconds'];
      sendStart: number;
      lastActivity: number;
      cpuSeconds: number;
      eventLoopUtilization: number;
    },
  ): LoadReport {
    const { config, metrics } = this;
    const totals = metrics.tracker.totals();
    const series = metrics.series.snapshot(run.lastActivity);
    const sendSeconds = Math.max(spec.durationMs / 1000, 1e-3);
    const activeSeconds = Math.max((run.lastActivity - run.sendStart) / 1000, 1e-3);
    const sizes = new Map<number, number>();
    for (const members of this.plan.roomMembers) sizes.set(members.length, (sizes.get(members.length) ?? 0) + 1);
    const report: Omit<LoadReport, 'slo'> = {
      tool: 'chorus-loadtest',
      reportVersion: 1,
      runId: config.runId,
      startedAt: run.startedAt,
      profile: config.profile,
      gateways: this.endpoints.map((e) => e.base),
      config: {
        users: config.users,
        rooms: this.plan.roomMembers.length,
        roomSizes: [...sizes].sort((a, b) => b[0] - a[0]).map(([size, rooms]) => ({ size, rooms })),
        largeRoomSize: config.largeRoomSize,
        messageSize: config.messageSize,
        schedule: spec.options,
        connectConcurrency: config.connectConcurrency,
      },
      phasesSeconds: roundAll(run.phases),
      connections: {
        attempted: this.users.length,
        established: this.connected,
        failed: this.failedConnections(),
        failuresByCode: this.connectFailures,
        setupMs: this.connectLatency.summary(),
        droppedDuringRun: metrics.dropped,
        drainNotices: metrics.drainNotices,
        reconnects: metrics.reconnects,
        byGateway: countBy(this.users.flatMap((user) => (user.servedBy === undefined ? [] : [user.servedBy]))),
      },
      messages: {
        scheduled: spec.schedule.count,
        sent: metrics.sent,
        acked: metrics.acked,
        unanswered: metrics.errorsByCode.no_reply ?? 0,
        skipped: metrics.skipped,
        errorsByCode: metrics.errorsByCode,
        errorExamples: metrics.errorExamples,
        errors: metrics.errors,
        scheduleLagMs: metrics.scheduleLag.summary(),
      },
      deliveries: { ...totals, lossRatio: totals.expected > 0 ? totals.lost / totals.expected : 0 },
      latency: { ackMs: metrics.ackLatency.summary(), deliveryMs: metrics.deliveryLatency.summary() },
      throughput: {
        offeredPerSec: round2(metrics.sent / sendSeconds),
        ackedPerSec: round2(metrics.acked / sendSeconds),
        deliveredPerSec: round2(totals.delivered / activeSeconds),
        peakDeliveredPerSec: series.reduce((m, p) => Math.max(m, p.delivered), 0),
      },
      loadTester: {
        peakRssBytes: this.peakRss,
        memoryPerUserBytes: this.memoryPerUser,
        cpuSeconds: round2(run.cpuSeconds),
        eventLoopUtilization: round2(run.eventLoopUtilization),
      },
      series,
      histograms: { deliveryMs: metrics.deliveryLatency.binsForPlot(), ackMs: metrics.ackLatency.binsForPlot() },
    };
    const violations = evaluateSlo(report, config.slo);
    return { ...report, slo: { thresholds: config.slo, violations, passed: violations.length === 0 } };
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function roundAll<T extends Record<string, number>>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round2(v)])) as T;
}

/** Runs one load test and returns its report. */
export function runLoad(config: RunConfig, progress?: ProgressReporter, hooks?: RunHooks): Promise<LoadReport> {
  return new LoadRun(config, progress, hooks).run();
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values.sort()) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Gateways tried, one after another, when a user leaves a draining one. */
const reconnectAttempts = 5;

/** Tries of a join answered `unavailable` or `rate_limited` after the first (0.2 s, 0.4 s, ... 3.2 s apart). */
const joinRetries = 5;

function retryable(reply: Extract<ServerFrame, { type: 'error' }>): boolean {
  return reply.code === 'unavailable' || reply.code === 'rate_limited';
}
