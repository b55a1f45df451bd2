import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { waitAtMost } from '@chorus/shared/concurrency/wait-at-most';
import type { z } from 'zod';
import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { deadlineHeader, rpcQueueGroup } from '@chorus/shared/bus/names';
import type { RpcReply } from '@chorus/shared/bus/payloads';
import type { Logger } from '@chorus/shared/logging/logger';
import { RpcError } from './rpc-error.js';

/** A request/reply endpoint served by whichever replica of the queue group gets the request. */
export class RpcServer {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    /** Requests handled at once by this replica; more are answered `unavailable` at once. */
    private readonly maxInFlight = 1_000,
  ) {}

  /**
   * Serves `subject`: the payload is validated with `schema` (invalid_frame when it fails), the
   * handler's result is replied as {ok:true,result}, an RpcError as its code, anything else as
   * `internal` (logged; the message does not leak details).
   */
  serve<S extends z.ZodType, R>(subject: string, schema: S, handler: Handler<S, R>): void {
    const sub = this.nc.subscribe(subject, {
      queue: rpcQueueGroup,
      callback: (error, msg) => {
        if (error) {
          this.log.error({ err: error, subject }, 'rpc subscription failed');
          return;
        }
        if (this.inFlight.size >= this.maxInFlight) {
          this.reply(msg, { ok: false, code: 'unavailable', message: 'the message service is busy; try again' });
          return;
        }
        const done = this.handle(msg, schema, handler).finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      },
    });
    this.subscriptions.push(sub);
  }

  /**
   * Stops taking requests and waits for the ones being answered, at most `maxWaitMs`: a request
   * still running then is dropped unanswered (its caller's own deadline runs out and it retries on
   * another replica).
   */
  async close(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.drain().catch(() => {})));
    await waitAtMost(Promise.allSettled([...this.inFlight]), maxWaitMs);
    if (this.inFlight.size > 0) this.log.warn({ dropped: this.inFlight.size }, 'rpc requests still running at shutdown were dropped');
  }

  private async handle<S extends z.ZodType, R>(msg: Msg, schema: S, handler: Handler<S, R>): Promise<void> {
    const deadline = Number(msg.headers?.get(deadlineHeader)) || undefined;
    if (deadline !== undefined && Date.now() > deadline) return; // the caller has given up
    let reply: RpcReply<R>;
    try {
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        throw new RpcError('invalid_frame', 'request is not JSON');
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        throw new RpcError('invalid_frame', parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; '));
      }
      reply = { ok: true, result: await handler(parsed.data, deadline) };
    } catch (error) {
      if (error instanceof RpcError) {
        reply = { ok: false, code: error.code, message: error.message, ...error.details };
      } else if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
        // The database is unreachable: say so, the caller may retry.
        this.log.warn({ err: error, subject: msg.subject }, 'rpc failed: database unavailable');
        reply = { ok: false, code: 'unavailable', message: 'database unavailable' };
      } else {
        this.log.error({ err: error, subject: msg.subject }, 'rpc failed');
        reply = { ok: false, code: 'internal', message: 'internal error' };
      }
    }
    this.reply(msg, reply);
  }

  private reply(msg: Msg, reply: RpcReply<unknown>): void {
    if (!msg.reply) return;
    try {
      msg.respond(JSON.stringify(reply));
    } catch (error) {
      // Too large for max_payload (a handler's paging missed) or the connection is closing.
      this.log.error({ err: error, subject: msg.subject }, 'rpc reply could not be sent');
      try {
        msg.respond(JSON.stringify({ ok: false, code: 'internal', message: 'reply could not be sent' }));
      } catch {
        // connection gone: the caller times out and retries
      }
    }
  }
}

type Handler<S extends z.ZodType, R> = (request: z.infer<S>, deadline: number | undefined) => Promise<R>;
