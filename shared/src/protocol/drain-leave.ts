/** Leaving a draining gateway: wait at most this long for the answers to sends in flight on it. */
export const drainLeaveWaitMs = 1_000;

export interface DrainLeaveHooks<S> {
  /** The client's socket now (a leave scheduled for an older socket does nothing). */
  current(): S | undefined;
  /** Sends on the socket not answered yet. */
  inFlight(): boolean;
  /** Close it (1000): the client's close handler connects elsewhere and resumes with `after`. */
  close(socket: S): void;
}

/**
 * A client's side of a gateway's `reconnect` frame (docs/protocol.md "Draining"): after the frame's
 * `afterMs` the client is `leaving` (it sends nothing new on that socket), and the socket is closed
 * once its sends in flight are answered, or after `drainLeaveWaitMs` whatever is left. The client
 * calls `answered()` when an answer arrives and `reset()` when the socket closed.
 */
export class DrainLeave<S> {
  private leavingSocket: S | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly hooks: DrainLeaveHooks<S>) {}

  /** True from the frame's delay until the socket closed. */
  get leaving(): boolean {
    return this.leavingSocket !== undefined;
  }

  /** On a `reconnect` frame for `socket`; `onLeave` runs when the delay is over and leaving starts. */
  schedule(socket: S, afterMs: number, onLeave?: () => void): void {
    clearTimeout(this.delayTimer);
    this.delayTimer = setTimeout(() => {
      if (socket !== this.hooks.current() || this.leavingSocket !== undefined) return;
      this.leavingSocket = socket;
      onLeave?.();
      this.waitTimer = setTimeout(() => this.closeNow(), drainLeaveWaitMs);
      this.answered();
    }, afterMs);
  }

  /** An answer to a send arrived: close once none is left in flight. */
  answered(): void {
    if (this.leavingSocket !== undefined && !this.hooks.inFlight()) this.closeNow();
  }

  /** The socket closed (or the client stops): forget it. */
  reset(): void {
    clearTimeout(this.delayTimer);
    clearTimeout(this.waitTimer);
    this.delayTimer = undefined;
    this.waitTimer = undefined;
    this.leavingSocket = undefined;
  }

  private closeNow(): void {
    const socket = this.leavingSocket;
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    if (socket !== undefined && socket === this.hooks.current()) this.hooks.close(socket);
  }
}
