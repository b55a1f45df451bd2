/**
 * Batch tuner: picks the message-service batch size and flush interval from queue telemetry.
 * Pure (no I/O, no clock: time comes in with each observation), so the operator's autopilot and
 * the local supervisor (`npm start`) run the same code.
 *
 * API
 *   const tuner = new BatchTuner(bounds);            // BatchBounds, validated (throws RangeError)
 *   const settings = tuner.observe({ backlog, rate, timeMs });
 *   // -> { batchSize, flushIntervalMs, changed }     always within bounds
 *   tuner.current                                     // last settings (starts at the latency end)
 *   tuneBatch(observation, bounds)                    // stateless one-shot target, no smoothing
 *
 *   backlog: JetStream consumer num_pending + num_ack_pending (messages not yet processed)
 *   rate:    arrivals in messages per second (e.g. delta of the stream's last sequence / seconds)
 *   timeMs:  monotonic milliseconds of the observation (Date.now() or performance.now())
 *
 * How: the load the workers see is the backlog plus what arrives within the latency target,
 * `depth = max(backlog, rate * targetLatencyMs / 1000)`. It maps on a log scale onto
 * u in [0, 1]: depth <= minBatchSize -> u = 0 (latency: smallest batch, shortest wait);
 * depth >= maxBatchSize -> u = 1 (throughput: largest batch, longest wait, but never longer than
 * the latency target). Batch size interpolates geometrically, flush interval linearly.
 * Against flapping: depth is smoothed with a fast-rise / slow-fall EMA (a spike shows within
 * about a second, a lull takes ~5 s to relax), and a new setting is only emitted when it moves
 * by more than `deadband` (default 15 %) from the current one.
 */
export interface BatchBounds {
  minBatchSize: number;
  maxBatchSize: number;
  minFlushMs: number;
  maxFlushMs: number;
  targetLatencyMs: number;
}

export interface QueueObservation {
  /** pending + ack pending. */
  backlog: number;
  /** Arrivals, messages per second. */
  rate: number;
  timeMs: number;
}

export interface BatchTuning {
  batchSize: number;
  flushIntervalMs: number;
}

export interface BatchTunerOptions {
  /** Time constant of the EMA when load rises (ms). */
  riseMs?: number;
  /** Time constant of the EMA when load falls (ms). */
  fallMs?: number;
  /** Relative change below which the current setting is kept. */
  deadband?: number;
}

export function validateBounds(bounds: BatchBounds): void {
  const { minBatchSize, maxBatchSize, minFlushMs, maxFlushMs, targetLatencyMs } = bounds;
  for (const [name, value] of Object.entries(bounds)) {
    if (!Number.isFinite(value) || value < 1) throw new RangeError(`${name} must be a number >= 1, got ${value}`);
  }
  if (minBatchSize > maxBatchSize) throw new RangeError(`minBatchSize (${minBatchSize}) > maxBatchSize (${maxBatchSize})`);
  if (minFlushMs > maxFlushMs) throw new RangeError(`minFlushMs (${minFlushMs}) > maxFlushMs (${maxFlushMs})`);
  if (targetLatencyMs < 1) throw new RangeError('targetLatencyMs must be >= 1');
}

/** Load level in [0, 1] for a queue depth, on a log scale between the batch bounds. */
export function loadLevel(depth: number, bounds: BatchBounds): number {
  const lo = Math.max(1, bounds.minBatchSize);
  const hi = Math.max(lo + 1, bounds.maxBatchSize);
  if (depth <= lo) return 0;
  if (depth >= hi) return 1;
  return Math.log(depth / lo) / Math.log(hi / lo);
}

/** Settings for a load level (pure). */
export function settingsFor(level: number, bounds: BatchBounds): BatchTuning {
  const u = Math.min(1, Math.max(0, level));
  const batch = bounds.minBatchSize * Math.pow(bounds.maxBatchSize / bounds.minBatchSize, u);
  const flushCeiling = Math.max(bounds.minFlushMs, Math.min(bounds.maxFlushMs, bounds.targetLatencyMs));
  const flush = bounds.minFlushMs + (flushCeiling - bounds.minFlushMs) * u;
  return {
    batchSize: clamp(Math.round(batch), bounds.minBatchSize, bounds.maxBatchSize),
    flushIntervalMs: clamp(Math.round(flush), bounds.minFlushMs, flushCeiling),
  };
}

/** The target for one observation, without smoothing or deadband. */
export function tuneBatch(observation: QueueObservation, bounds: BatchBounds): BatchTuning {
  return settingsFor(loadLevel(effectiveDepth(observation, bounds), bounds), bounds);
}

function effectiveDepth(o: { backlog: number; rate: number }, bounds: BatchBounds): number {
  const backlog = Math.max(0, Number.isFinite(o.backlog) ? o.backlog : 0);
  const rate = Math.max(0, Number.isFinite(o.rate) ? o.rate : 0);
  return Math.max(backlog, (rate * bounds.targetLatencyMs) / 1000);
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

export class BatchTuner {
  private smoothedDepth: number | undefined;
  private lastTimeMs: number | undefined;
  private settings: BatchTuning;
  private readonly riseMs: number;
  private readonly fallMs: number;
  private readonly deadband: number;

  constructor(
    private bounds: BatchBounds,
    options: BatchTunerOptions = {},
  ) {
    validateBounds(bounds);
    this.riseMs = options.riseMs ?? 1_000;
    this.fallMs = options.fallMs ?? 5_000;
    this.deadband = options.deadband ?? 0.15;
    this.settings = settingsFor(0, bounds);
  }

  get current(): BatchTuning {
    return { ...this.settings };
  }

  /** New bounds (the spec changed); the current setting is clamped into them at once. */
  setBounds(bounds: BatchBounds): void {
    validateBounds(bounds);
    this.bounds = bounds;
    this.settings = {
      batchSize: clamp(this.settings.batchSize, bounds.minBatchSize, bounds.maxBatchSize),
      flushIntervalMs: clamp(this.settings.flushIntervalMs, bounds.minFlushMs, Math.max(bounds.minFlushMs, Math.min(bounds.maxFlushMs, bounds.targetLatencyMs))),
    };
  }

  observe(observation: QueueObservation): BatchTuning & { changed: boolean } {
    const depth = effectiveDepth(observation, this.bounds);
    if (this.smoothedDepth === undefined || this.lastTimeMs === undefined) {
      this.smoothedDepth = depth;
    } else {
      const dt = Math.max(0, observation.timeMs - this.lastTimeMs);
      const tau = depth > this.smoothedDepth ? this.riseMs : this.fallMs;
      const alpha = 1 - Math.exp(-dt / tau);
      this.smoothedDepth += alpha * (depth - this.smoothedDepth);
    }
    this.lastTimeMs = observation.timeMs;
    const target = settingsFor(loadLevel(this.smoothedDepth, this.bounds), this.bounds);
    const moved = (a: number, b: number, floor: number) => Math.abs(a - b) > Math.max(floor, this.deadband * b);
    const atEdge = (t: BatchTuning) =>
      (t.batchSize === this.bounds.minBatchSize || t.batchSize === this.bounds.maxBatchSize) && t.batchSize !== this.settings.batchSize;
    const changed = moved(target.batchSize, this.settings.batchSize, 1) || moved(target.flushIntervalMs, this.settings.flushIntervalMs, 2) || atEdge(target);
    if (changed) this.settings = target;
    return { ...this.settings, changed };
  }
}
