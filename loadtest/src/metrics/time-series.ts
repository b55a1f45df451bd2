import { LatencyHistogram } from './latency-histogram.js';

/** One interval of the run, for the over-time plots. Rates are per second; latencies in ms. */
export interface SeriesPoint {
  /** Seconds from the start of the send phase to the start of this interval. */
  t: number;
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  ackP50: number;
  ackP99: number;
  deliveryP50: number;
  deliveryP90: number;
  deliveryP99: number;
  deliveryMax: number;
}

type Counter = 'sent' | 'acked' | 'delivered' | 'errors';

/**
 * Per-interval counters and latency percentiles. Events arrive in time order (they are stamped
 * when they happen), so only the current interval's histograms are kept and reset when it closes.
 */
export class TimeSeries {
  private readonly points: SeriesPoint[] = [];
  private current: SeriesPoint;
  private readonly ack = new LatencyHistogram();
  private readonly delivery = new LatencyHistogram();

  constructor(
    private readonly originMs: number,
    private readonly intervalMs = 1000,
  ) {
    this.current = this.emptyPoint(0);
  }

  count(counter: Counter, nowMs: number, n = 1): void {
    this.advance(nowMs);
    this.current[counter] += n;
  }

  ackLatency(ms: number, nowMs: number): void {
    this.advance(nowMs);
    this.current.acked++;
    this.ack.recordMs(ms);
  }

  deliveryLatency(ms: number, nowMs: number): void {
    this.advance(nowMs);
    this.current.delivered++;
    this.delivery.recordMs(ms);
  }

  /** The closed intervals so far plus the current one, scaled to per-second rates. */
  snapshot(nowMs: number): SeriesPoint[] {
    this.advance(nowMs);
    return [...this.points, this.closePoint(false)];
  }

  /** The latest closed interval, for live progress. */
  last(): SeriesPoint | undefined {
    return this.points[this.points.length - 1];
  }

  private advance(nowMs: number): void {
    const index = Math.max(0, Math.floor((nowMs - this.originMs) / this.intervalMs));
    while (index > this.points.length) {
      this.points.push(this.closePoint(true));
      this.current = this.emptyPoint(this.points.length);
    }
  }

  private closePoint(reset: boolean): SeriesPoint {
    const perSecond = 1000 / this.intervalMs;
    const c = this.current;
    const point: SeriesPoint = {
      t: c.t,
      sent: c.sent * perSecond,
      acked: c.acked * perSecond,
      delivered: c.delivered * perSecond,
      errors: c.errors * perSecond,
      ackP50: this.ack.percentileMs(50),
      ackP99: this.ack.percentileMs(99),
      deliveryP50: this.delivery.percentileMs(50),
      deliveryP90: this.delivery.percentileMs(90),
      deliveryP99: this.delivery.percentileMs(99),
      deliveryMax: this.delivery.percentileMs(100),
    };
    if (reset) {
      this.ack.reset();
      this.delivery.reset();
    }
    return point;
  }

  private emptyPoint(index: number): SeriesPoint {
    return {
      t: (index * this.intervalMs) / 1000,
      sent: 0,
      acked: 0,
      delivered: 0,
      errors: 0,
      ackP50: 0,
      ackP99: 0,
      deliveryP50: 0,
      deliveryP90: 0,
      deliveryP99: 0,
      deliveryMax: 0,
    };
  }
}
