import { DeliveryTracker } from './delivery-tracker.js';
import { LatencyHistogram } from './latency-histogram.js';
import { TimeSeries } from './time-series.js';

interface PendingSend {
  room: number;
  sentAtMs: number;
}

/**
 * Everything measured during one send phase (and its drain): a fresh set per phase, so several
 * phases can run over the same connections (the bench steps its rate that way).
 */
export class PhaseMetrics {
  readonly tracker: DeliveryTracker;
  /** Sends awaiting an ack or error, by clientMsgId (also the rid). */
  readonly pending = new Map<string, PendingSend>();
  readonly ackLatency = new LatencyHistogram();
  readonly deliveryLatency = new LatencyHistogram();
  readonly scheduleLag = new LatencyHistogram();
  readonly series: TimeSeries;
  readonly errorsByCode: Record<string, number> = {};
  /** The first message seen for each error code, so a report says why, not only how often. */
  readonly errorExamples: Record<string, string> = {};
  errors = 0;
  sent = 0;
  skipped = 0;
  acked = 0;
  dropped = 0;
  /** `reconnect` frames received (a gateway draining). */
  drainNotices = 0;
  /** Users that left a draining gateway and were connected elsewhere with their rooms resumed. */
  reconnects = 0;

  constructor(roomCount: number, originMs: number) {
    this.tracker = new DeliveryTracker(roomCount);
    this.series = new TimeSeries(originMs);
  }

  countError(code: string, n = 1, example?: string): void {
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + n;
    if (example !== undefined && !(code in this.errorExamples)) this.errorExamples[code] = example.slice(0, 300);
    this.errors += n;
  }
}
