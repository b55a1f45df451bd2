import * as hdr from 'hdr-histogram-js';

/** What a report says about one latency distribution; all values in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** One bin of the histogram plot: `count` values in [fromMs, toMs). */
export interface LatencyBin {
  fromMs: number;
  toMs: number;
  count: number;
}

const binsPerDecade = 10;
const lowestBinMs = 0.01;
const binCount = 7 * binsPerDecade; // 10 µs .. 100 s

/**
 * Latencies recorded in microseconds into an HdrHistogram (3 significant digits, so percentiles are
 * within 0.1%), plus log-spaced bins for the histogram plot.
 */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
  });
  private readonly bins = new Float64Array(binCount + 1);

  recordMs(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.histogram.recordValue(us);
    const bin = ms <= lowestBinMs ? 0 : Math.min(binCount, Math.floor(Math.log10(ms / lowestBinMs) * binsPerDecade));
    this.bins[bin]! += 1;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(p: number): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: h.totalCount,
      min: round3(h.minNonZeroValue / 1000),
      mean: round3(h.mean / 1000),
      p50: round3(h.getValueAtPercentile(50) / 1000),
      p90: round3(h.getValueAtPercentile(90) / 1000),
      p99: round3(h.getValueAtPercentile(99) / 1000),
      max: round3(h.maxValue / 1000),
    };
  }

  /** Non-empty log-spaced bins, for the histogram plot. */
  binsForPlot(): LatencyBin[] {
    const out: LatencyBin[] = [];
    this.bins.forEach((count, i) => {
      if (count === 0) return;
      out.push({
        fromMs: round3(lowestBinMs * 10 ** (i / binsPerDecade)),
        // The last bin also holds everything above 100 s.
        toMs: round3(lowestBinMs * 10 ** ((i + 1) / binsPerDecade)),
        count,
      });
    });
    return out;
  }

  reset(): void {
    this.histogram.reset();
    this.bins.fill(0);
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
