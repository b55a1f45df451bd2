import { SpanStatusCode, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import type { MsgHdrs } from '@nats-io/transport-node';
import { extractTrace, tracer } from '@chorus/shared/telemetry/tracing';

export interface TracedMessage {
  headers: MsgHdrs | undefined;
  /** When the gateway accepted it (ms): the start of its queue wait. */
  ts: number;
  /** When this service received it from JetStream (ms). */
  pulledAt: number;
}

interface MessageSpans {
  context: Context;
  process: Span;
  processContext: Context;
}

/**
 * The spans of one batch. The batch itself is a root span linked to every message's trace; each
 * message gets, inside its own trace, `queue.wait` (accepted -> pulled) and `batch.process`
 * (linked to the batch span) with child `mongodb.insert`. With tracing
 * off the batch span does not record and everything per message is skipped, so the hot path
 * pays for one no-op span per batch.
 */
export class BatchTrace {
  private readonly batchSpan: Span;
  private readonly perMessage: MessageSpans[] = [];
  readonly recording: boolean;

  constructor(messages: readonly TracedMessage[], startTime: number) {
    const t = tracer();
    // Extracting headers costs something per message, so check first whether anything records.
    const probe = t.startSpan('batch', { root: true, startTime, attributes: { 'batch.size': messages.length } });
    this.recording = probe.isRecording();
    if (!this.recording) {
      this.batchSpan = probe;
      return;
    }
    const contexts = messages.map((m) => extractTrace(m.headers ? headerCarrier(m.headers) : undefined));
    const links: Link[] = [];
    for (const ctx of contexts) {
      const spanContext = trace.getSpanContext(ctx);
      if (spanContext) links.push({ context: spanContext });
    }
    probe.addLinks(links);
    this.batchSpan = probe;
    const batchLink: Link = { context: probe.spanContext() };
    messages.forEach((m, i) => {
      const context = contexts[i]!;
      t.startSpan('queue.wait', { startTime: m.ts }, context).end(m.pulledAt);
      const process = t.startSpan(
        'batch.process',
        { startTime, attributes: { 'batch.size': messages.length }, links: [batchLink] },
        context,
      );
      this.perMessage.push({ context, process, processContext: trace.setSpan(context, process) });
    });
  }

  /** Records the insertMany (same timing for every message of the batch). */
  insert(startTime: number, endTime: number, error?: unknown): void {
    if (!this.recording) return;
    const t = tracer();
    for (const m of this.perMessage) {
      const span = t.startSpan(
        'mongodb.insert',
        {
          startTime,
          attributes: { 'db.system': 'mongodb', 'db.system.name': 'mongodb', 'db.operation.name': 'insertMany', 'db.collection.name': 'messages' },
        },
        m.processContext,
      );
      if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      span.end(endTime);
    }
  }

  /** Ends the per-message spans; `outcome` per message index marks the ones not acked. */
  end(outcomeOf: (index: number) => 'acked' | 'nak' | 'term', attributes: Record<string, number> = {}): void {
    if (this.recording) {
      this.perMessage.forEach((m, i) => {
        const outcome = outcomeOf(i);
        m.process.setAttribute('message.outcome', outcome);
        if (outcome !== 'acked') m.process.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        m.process.end();
      });
      this.batchSpan.setAttributes(attributes);
    }
    this.batchSpan.end();
  }
}

function headerCarrier(headers: MsgHdrs): { get(key: string): string; set(key: string, value: string): void } {
  return { get: (key) => headers.get(key), set: (key, value) => headers.set(key, value) };
}
