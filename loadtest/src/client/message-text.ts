/**
 * The text of every load-test message starts with the sender's clock reading, so each receiver
 * computes delivery latency on the same clock (sender and receivers share this process): no clock
 * sync. The platform treats text as opaque. Layout: "lt:<ms since the process's time origin>:" then
 * filler up to the requested size.
 */
const prefix = 'lt:';

export function minMessageSize(): number {
  return encodeMessageText(1e9, 0).length;
}

export function encodeMessageText(sentAtMs: number, size: number): string {
  const head = `${prefix}${sentAtMs.toFixed(3)}:`;
  return size > head.length ? head + 'x'.repeat(size - head.length) : head;
}

/** The send time embedded by `encodeMessageText`, or undefined for a text this tool did not write. */
export function decodeSentAtMs(text: string): number | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const end = text.indexOf(':', prefix.length);
  if (end < 0) return undefined;
  const value = Number(text.slice(prefix.length, end));
  return Number.isFinite(value) ? value : undefined;
}
