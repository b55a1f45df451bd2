/** One entry of the room-size mix: rooms of `size` members hold `share` of the users. */
export interface RoomMixEntry {
  size: number;
  share: number;
}

/**
 * Parses "2:40,5:30,20:20,100:10": each user is placed in one "home" room, and the weights say
 * which share of users live in rooms of each size. Weights are normalised, so percentages and
 * fractions both work.
 */
export function parseRoomMix(text: string): RoomMixEntry[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) throw new Error('room mix is empty; use e.g. 2:40,5:30,20:20,100:10');
  const entries: RoomMixEntry[] = [];
  for (const part of parts) {
    const match = /^(\d+):(\d+(?:\.\d+)?)$/.exec(part);
    if (!match) throw new Error(`room mix entry "${part}" is not size:weight (e.g. 20:30)`);
    const size = Number(match[1]);
    const weight = Number(match[2]);
    if (size < 1) throw new Error(`room mix entry "${part}": size must be at least 1`);
    if (weight <= 0) throw new Error(`room mix entry "${part}": weight must be positive`);
    entries.push({ size, share: weight });
  }
  const total = entries.reduce((sum, e) => sum + e.share, 0);
  return entries.map((e) => ({ size: e.size, share: e.share / total }));
}
