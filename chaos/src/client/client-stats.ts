/** Counters shared by every client of a run (one object, summed as it goes). */
export interface ClientStats {
  /** New sends (distinct clientMsgIds) started. */
  sends: number;
  /** Frames sent for sends, first tries and retries. */
  attempts: number;
  /** Sends acked (distinct clientMsgIds). */
  acked: number;
  /** `unavailable` answers to sends. */
  unavailable: number;
  /** Sends answered `unavailable` at least once and acked later. */
  unavailableThenAcked: number;
  /** Retries because no answer came in time. */
  timeouts: number;
  /** Retries because the socket was replaced while the send was unanswered. */
  resentAfterReconnect: number;
  /** Sends not started because the user already had its maximum of unanswered sends. */
  skipped: number;
  /** Other error answers to sends, by code. */
  sendErrors: Record<string, number>;
  /** Sockets that closed without us asking, and the connects that failed. */
  disconnects: number;
  connectFailures: number;
  /** Sockets this client left because their gateway was draining (the `reconnect` frame). */
  drainMoves: number;
  /** Resume joins sent, error answers to joins by code, and resumes after an out-of-order delivery. */
  resumes: number;
  joinErrors: Record<string, number>;
  repairs: number;
  /** Frames that did not validate against the protocol. */
  invalidFrames: number;
  lastInvalid: string | undefined;
}

export function emptyClientStats(): ClientStats {
  return {
    sends: 0,
    attempts: 0,
    acked: 0,
    unavailable: 0,
    unavailableThenAcked: 0,
    timeouts: 0,
    resentAfterReconnect: 0,
    skipped: 0,
    sendErrors: {},
    disconnects: 0,
    connectFailures: 0,
    drainMoves: 0,
    resumes: 0,
    joinErrors: {},
    repairs: 0,
    invalidFrames: 0,
    lastInvalid: undefined,
  };
}
