/**
 * Reads one chat message's trace back from a real Jaeger through its query API (the v1 JSON API
 * the UI uses: /api/traces?..., /api/traces/<id>), and checks it has every hop of the message:
 * the sending gateway, the JetStream publish, the queue wait and batch in the message-service, the
 * database write, and a delivery on every receiving gateway. Used locally (a Jaeger process) and in
 * the cluster (through the Jaeger Service), so the fetch is passed in.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { waitUntil } from './wait-until.js';

/** GETs a path of the query API (`/api/...`) and returns the parsed JSON body; throws on non-2xx. */
export type JaegerGet = (path: string) => Promise<unknown>;

const tag = z.object({ key: z.string(), value: z.unknown() });
const span = z.object({
  traceID: z.string(),
  spanID: z.string(),
  operationName: z.string(),
  references: z.array(z.object({ refType: z.string(), traceID: z.string(), spanID: z.string() })).nullish(),
  tags: z.array(tag).nullish(),
  processID: z.string(),
});
const jaegerTrace = z.object({
  traceID: z.string(),
  spans: z.array(span),
  processes: z.record(z.string(), z.object({ serviceName: z.string() })),
});
const traces = z.object({ data: z.array(jaegerTrace).nullable() });

export type JaegerTrace = z.infer<typeof jaegerTrace>;
type JaegerSpan = z.infer<typeof span>;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`Jaeger's answer to ${what} is not a trace list: ${parsed.error.message}`);
  return parsed.data;
}

export interface TraceSpan {
  name: string;
  service: string;
  spanId: string;
  parentId: string | undefined;
  /** Trace ids of linked spans (Jaeger shows an OTLP link as a FOLLOWS_FROM reference). */
  linkedTraces: string[];
  tags: Record<string, unknown>;
}

function spansOf(trace: JaegerTrace): TraceSpan[] {
  return trace.spans.map((s: JaegerSpan) => ({
    name: s.operationName,
    service: trace.processes[s.processID]?.serviceName ?? `(no process ${s.processID})`,
    spanId: s.spanID,
    parentId: s.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID)?.spanID,
    linkedTraces: (s.references ?? []).filter((r) => r.refType === 'FOLLOWS_FROM').map((r) => r.traceID),
    tags: Object.fromEntries((s.tags ?? []).map((t) => [t.key, t.value])),
  }));
}

/** One line per span, parents first: what the tests print. */
export function describeTrace(spans: TraceSpan[]): string {
  const children = new Map<string | undefined, TraceSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const gateway = s.tags['chorus.gateway'] ? ` gateway=${String(s.tags['chorus.gateway'])}` : '';
      lines.push(`${'  '.repeat(depth)}${s.name} [${s.service}]${gateway}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

export interface MessageTrace {
  traceId: string;
  spans: TraceSpan[];
  /** The batch span (its own trace) that links this message's trace. */
  batch: TraceSpan;
}

/**
 * Waits until Jaeger has the whole trace of message `messageId` (sent through a gateway; spans are
 * exported in batches, and the database write finishes after the deliveries) and checks it.
 * `receivingGateways` are the GATEWAY_IDs that had a receiver in the room.
 */
export async function readMessageTrace(get: JaegerGet, messageId: string, receivingGateways: string[], timeoutMs = 60_000): Promise<MessageTrace> {
  const search = (service: string, operation: string, tags?: Record<string, string>, limit = 50) =>
    `/api/traces?service=${service}&operation=${operation}&lookback=1h&limit=${limit}${tags ? `&tags=${encodeURIComponent(JSON.stringify(tags))}` : ''}`;
  const want = ['gateway.receive', 'jetstream.publish', 'queue.wait', 'batch.process', 'mongodb.insert'];
  let traceId: string | undefined;
  let spans: TraceSpan[] = [];
  let batch: TraceSpan | undefined;
  let seen = '(no trace yet)';
  try {
    await waitUntil(
      async () => {
        if (!traceId) {
          const found = parse(traces, await get(search('chorus-gateway', 'gateway.receive', { 'chorus.message.id': messageId })), 'a search').data ?? [];
          if (found.length > 1) throw new Error(`${found.length} traces carry message ${messageId}; want one`);
          traceId = found[0]?.traceID;
          if (!traceId) return false;
        }
        const body = parse(traces, await get(`/api/traces/${traceId}`), `/api/traces/${traceId}`);
        assert.equal(body.data?.length, 1, `one trace ${traceId}`);
        spans = spansOf(body.data![0]!);
        seen = describeTrace(spans);
        const names = new Set(spans.map((s) => s.name));
        const delivered = new Set(spans.filter((s) => s.name === 'gateway.deliver').map((s) => String(s.tags['chorus.gateway'])));
        if (!want.every((n) => names.has(n)) || !receivingGateways.every((g) => delivered.has(g))) return false;
        // The batch span is the root of its own trace and links every message's trace it carried.
        const batches = parse(traces, await get(search('chorus-message-service', 'batch', undefined, 500)), 'a batch search').data ?? [];
        batch = batches.flatMap(spansOf).find((s) => s.name === 'batch' && s.linkedTraces.includes(traceId!));
        return batch !== undefined;
      },
      timeoutMs,
      `the trace of message ${messageId} in Jaeger`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the trace so far:\n${seen}`);
  }
  return { traceId: traceId!, spans, batch: batch! };
}

/** What the trace of one message must show; fails with the whole trace printed. */
export function assertMessageTrace(trace: MessageTrace, sendingGateway: string, receivingGateways: string[]): void {
  const { spans } = trace;
  const printed = describeTrace(spans);
  const one = (name: string) => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, `one ${name} span in:\n${printed}`);
    return found[0]!;
  };
  const receive = one('gateway.receive');
  assert.equal(receive.service, 'chorus-gateway', printed);
  assert.equal(receive.tags['chorus.gateway'], sendingGateway, printed);
  assert.equal(receive.parentId, undefined, `gateway.receive is the root:\n${printed}`);
  const publish = one('jetstream.publish');
  assert.equal(publish.service, 'chorus-gateway', printed);
  assert.equal(publish.parentId, receive.spanId, `the publish is a child of the receive:\n${printed}`);
  for (const name of ['queue.wait', 'batch.process']) {
    const s = one(name);
    assert.equal(s.service, 'chorus-message-service', printed);
    assert.equal(s.parentId, publish.spanId, `${name} continues from the publish (its NATS headers):\n${printed}`);
  }
  const insert = one('mongodb.insert');
  assert.equal(insert.service, 'chorus-message-service', printed);
  assert.equal(insert.parentId, one('batch.process').spanId, printed);
  const deliveries = spans.filter((s) => s.name === 'gateway.deliver');
  assert.deepEqual(deliveries.map((s) => String(s.tags['chorus.gateway'])).sort(), [...receivingGateways].sort(), `one delivery per receiving gateway:\n${printed}`);
  for (const d of deliveries) {
    assert.equal(d.service, 'chorus-gateway', printed);
    assert.equal(d.parentId, publish.spanId, `deliveries continue from the publish (the republished headers):\n${printed}`);
  }
  assert.equal(trace.batch.service, 'chorus-message-service');
}
