/**
 * Per-sender FIFO check for systems without a per-room position (Socket.IO): at every receiver,
 * each sender's messages must arrive in the order they were sent. Ids are the load driver's
 * clientMsgIds, `m<sender base 36>.<sender's counter base 36>`. One instance per measured phase,
 * so its maps hold at most that phase's senders per receiver.
 */
export class SenderOrder {
  private readonly last: Map<number, number>[] = [];
  violations = 0;
  malformed = 0;

  onDelivery(slot: number, id: string): void {
    const dot = id.indexOf('.');
    const sender = dot > 1 ? parseInt(id.slice(1, dot), 36) : NaN;
    const counter = dot > 1 ? parseInt(id.slice(dot + 1), 36) : NaN;
    if (!Number.isFinite(sender) || !Number.isFinite(counter)) {
      this.malformed++;
      return;
    }
    const seen = (this.last[slot] ??= new Map());
    const previous = seen.get(sender);
    if (previous !== undefined && counter <= previous) this.violations++;
    else seen.set(sender, counter);
  }
}
