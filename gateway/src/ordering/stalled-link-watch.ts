import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@chorus/shared/logging/logger';
import type { StreamPublisher } from './stream-publisher.js';

export interface StalledLinkWatchOptions {
  /** PubAcks owed and none arriving for this long: ask the server for a PONG. */
  silenceMs?: number;
  /** No PONG within this long: the link is dead. */
  probeMs?: number;
}

/**
 * Replaces a NATS link that has stopped delivering. Such a link was seen under load (the server
 * could not write to one gateway for 10 s while the gateway ran normally): nats-server closes it
 * only after its write deadline (10 s), and until then every send through this gateway waits and
 * every room it serves stalls. Here: PubAcks owed, and not one message of any kind taken from the
 * link for `silenceMs` (a busy gateway behind on its input still takes some), then no PONG within
 * `probeMs`, means the link, not the stream, is stuck: the waiting publishes are failed
 * (the sender's publisher retries them on the new link with the same message ids, so nothing is
 * stored twice) and the client reconnects. A PONG means the link works and the stream is only
 * slow: nothing is done.
 */
export class StalledLinkWatch {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private inMsgs = 0;
  private lastInboundAt = Date.now();
  private readonly silenceMs: number;
  private readonly probeMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly publisher: StreamPublisher,
    private readonly log: Logger,
    options: StalledLinkWatchOptions = {},
  ) {
    this.silenceMs = options.silenceMs ?? 1_000;
    this.probeMs = options.probeMs ?? 500;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), Math.max(10, this.silenceMs / 4));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.probing || this.nc.isClosed()) return;
    const { inMsgs } = this.nc.stats();
    if (inMsgs !== this.inMsgs) {
      this.inMsgs = inMsgs;
      this.lastInboundAt = Date.now();
    }
    // Every PubAck is an inbound message too: silence since the later of the two.
    const owed = this.publisher.oldestWaitingSince();
    if (owed === undefined) return;
    const since = Math.max(owed, this.lastInboundAt);
    if (Date.now() - since < this.silenceMs) return;
    this.probing = true;
    try {
      const verdict = await this.probe();
      if (verdict !== 'dead' || this.nc.isClosed()) return;
      this.log.warn({ silentMs: Date.now() - since, probeMs: this.probeMs }, 'NATS link stopped answering (PubAcks owed, no PONG); reconnecting');
      this.publisher.failWaiting(new Error('the NATS link stopped answering and was replaced'));
      await this.nc.reconnect();
    } catch (error) {
      this.log.warn({ err: error }, 'replacing a stalled NATS link failed');
    } finally {
      this.probing = false;
    }
  }

  /** 'dead' only when the PONG is late and this process was not itself too busy to see it. */
  private probe(): Promise<'alive' | 'dead' | 'unknown'> {
    return new Promise((resolve) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        // A timer that fired far too late says this event loop was blocked, not the link.
        resolve(Date.now() - started > this.probeMs * 1.5 ? 'unknown' : 'dead');
      }, this.probeMs);
      this.nc.flush().then(
        () => {
          clearTimeout(timer);
          resolve('alive');
        },
        () => {
          clearTimeout(timer);
          resolve('unknown');
        },
      );
    });
  }
}
