import { randomInt, type Random } from '../plan/seeded-random.js';

/**
 * What the gateway must do with a generated frame:
 * - `error`: it is certainly invalid, so its answer is an `error` frame;
 * - `answer`: valid, or a mutation that may happen to be valid: some answer (a reply or an error);
 * - `close`: the WebSocket layer fails the connection (invalid UTF-8: 1007; over 4x the frame
 *   limit: 1009), which is the protocol's answer to it.
 */
export type Expectation = 'error' | 'answer' | 'close';

export interface FuzzFrame {
  data: string | Buffer;
  binary: boolean;
  expect: Expectation;
  /** The rid the gateway can read from it (undefined: it cannot, so the answer carries none). */
  rid: number | undefined;
  /** Which generator made it, for the summary. */
  kind: string;
}

export interface GeneratorContext {
  /** A room this socket's user is a member of. */
  room: string;
  /** Unique per socket, so clientMsgIds and rids never repeat. */
  nextId: () => number;
  /** The gateway's frame limit (bytes). */
  maxFrameBytes: number;
}

type Make = (random: Random, ctx: GeneratorContext) => FuzzFrame;

const pick = <T>(random: Random, items: readonly T[]): T => items[randomInt(random, items.length)]!;
const controlChars = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f';

function randomString(random: Random, length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(random, alphabet.length)];
  return out;
}

/** A valid frame of a random type, as an object with its rid. */
function validObject(random: Random, ctx: GeneratorContext): Record<string, unknown> {
  const rid = ctx.nextId();
  switch (randomInt(random, 8)) {
    case 0:
      return { type: 'ping', rid };
    case 1:
      return { type: 'rooms', rid };
    case 2:
      return { type: 'presence', rid, room: ctx.room };
    case 3:
      return { type: 'history', rid, room: ctx.room, limit: 1 + randomInt(random, 20) };
    case 4:
      return { type: 'join', rid, room: ctx.room };
    case 5:
      return { type: 'join', rid, room: `nowhere-${randomString(random, 6)}` };
    default:
      return { type: 'send', rid, room: ctx.room, clientMsgId: `fz-${rid}`, text: randomString(random, 1 + randomInt(random, 80), `abc ${controlChars}\u00e9\u{1f600}`) };
  }
}

const ridOf = (frame: Record<string, unknown>) => frame.rid as number;
const json = (frame: Record<string, unknown>, expect: Expectation, kind: string): FuzzFrame => ({ data: JSON.stringify(frame), binary: false, expect, rid: ridOf(frame), kind });

/** Nested arrays `depth` deep: a value no field accepts. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const wrongValues: Record<string, readonly unknown[]> = {
  type: [7, null, [], {}, true],
  room: [9, null, [], { a: 1 }, true, ''],
  text: [42, null, ['x'], {}, '', false],
  clientMsgId: [9, null, [], {}, '', 'c'.repeat(65)],
  limit: [0, 201, -1, 1.5, 'ten', null, 1e308],
};

const generators: [weight: number, make: Make][] = [
  // Valid frames: the fuzz sockets also do real work, so error paths run beside normal ones.
  [16, (r, c) => {
    const frame = validObject(r, c);
    return json(frame, 'answer', `valid ${String(frame.type)}`);
  }],
  // A field of the wrong type (every field of every type has values that are wrong).
  [10, (r, c) => {
    const frame = validObject(r, c);
    const field = pick(r, Object.keys(frame).filter((k) => k !== 'rid'));
    return json({ ...frame, [field]: pick(r, wrongValues[field] ?? [null]) }, 'error', 'wrong-type');
  }],
  // An unknown field (frames are strict), including prototype names.
  [6, (r, c) => {
    const frame = validObject(r, c);
    const key = pick(r, ['extra', '__proto__', 'constructor', 'toString', 'hasOwnProperty', randomString(r, 8)]);
    const text = JSON.stringify(frame).slice(0, -1) + `,${JSON.stringify(key)}:{"polluted":true}}`;
    return { data: text, binary: false, expect: 'error', rid: ridOf(frame), kind: 'unknown-field' };
  }],
  // A required field missing.
  [5, (r, c) => {
    const rid = c.nextId();
    const frame = pick(r, [
      { type: 'send', rid, room: c.room, clientMsgId: `m-${rid}` },
      { type: 'send', rid, room: c.room, text: 'no id' },
      { type: 'send', rid, clientMsgId: `m-${rid}`, text: 'no room' },
      { type: 'join', rid },
      { type: 'history', rid },
      { rid, room: c.room },
    ]);
    return json(frame, 'error', 'missing-field');
  }],
  // An unknown type, or one that exists on every object.
  [5, (r, c) => json({ type: pick(r, ['explode', '__proto__', 'constructor', 'toString', '', 'SEND', randomString(r, 300)]), rid: c.nextId() }, 'error', 'unknown-type')],
  // Room ids outside the alphabet: subject wildcards, control characters, too long, lone surrogates.
  [6, (r, c) => {
    const room = pick(r, ['a.>', '*', 'a b', 'x'.repeat(65), `r${pick(r, [...controlChars])}`, '\ud800', '../etc', '', 'ä']);
    return json({ type: pick(r, ['join', 'create', 'presence', 'leave']), rid: c.nextId(), room }, 'error', 'bad-room');
  }],
  // Oversized strings within the frame limit.
  [5, (r, c) => {
    const rid = c.nextId();
    return pick(r, [
      json({ type: 'send', rid, room: c.room, clientMsgId: 'c'.repeat(65 + randomInt(r, 2000)), text: 'x' }, 'error', 'oversized-string'),
      json({ type: 'send', rid, room: c.room, clientMsgId: `o-${rid}`, text: 'x'.repeat(4001 + randomInt(r, 20_000)) }, 'error', 'oversized-string'),
    ]);
  }],
  // Deeply nested values inside a frame.
  [4, (r, c) => {
    const rid = c.nextId();
    const depth = 100 + randomInt(r, Math.floor(c.maxFrameBytes / 2) - 200);
    return { data: `{"type":"send","rid":${rid},"room":"${c.room}","clientMsgId":"n-${rid}","text":${nested(depth)}}`, binary: false, expect: 'error', rid, kind: 'nested' };
  }],
  // A deeply nested top-level value, a bare scalar, a JSON array: no frame at all.
  [4, (r, c) => ({ data: pick(r, [nested(1 + randomInt(r, c.maxFrameBytes / 2 - 1)), '42', '"ping"', 'null', 'true', '[{"type":"ping"}]', '{}', '-0', '1e999']), binary: false, expect: 'error', rid: undefined, kind: 'not-an-object' })],
  // Truncated JSON: any strict prefix of an object is not JSON.
  [8, (r, c) => {
    const text = JSON.stringify(validObject(r, c));
    return { data: text.slice(0, randomInt(r, text.length)), binary: false, expect: 'error', rid: undefined, kind: 'truncated' };
  }],
  // Raw control characters inside JSON strings (JSON forbids them unescaped).
  [4, (r, c) => {
    const rid = c.nextId();
    return { data: `{"type":"send","rid":${rid},"room":"${c.room}","clientMsgId":"k-${rid}","text":"a${pick(r, [...controlChars.slice(0, 32)])}b"}`, binary: false, expect: 'error', rid: undefined, kind: 'raw-control' };
  }],
  // Random byte flips of a valid frame: may stay valid, must be answered either way.
  [8, (r, c) => {
    // Without its rid, so whatever the flips make of it, its answer carries none. Not a presence
    // request: one the flips leave valid would be answered by a frame that looks pushed.
    let source = validObject(r, c);
    while (source.type === 'presence') source = validObject(r, c);
    const { rid: _rid, ...frame } = source;
    const bytes = Buffer.from(JSON.stringify(frame));
    for (let n = 1 + randomInt(r, 3); n > 0; n--) bytes[randomInt(r, bytes.length)] = 0x20 + randomInt(r, 0x5f);
    return { data: bytes.toString('latin1'), binary: false, expect: 'answer', rid: undefined, kind: 'byte-flip' };
  }],
  // A frame over the limit but within 4x: frame_too_large, the socket stays.
  [2, (r, c) => {
    const rid = c.nextId();
    return { data: JSON.stringify({ type: 'send', rid, room: c.room, clientMsgId: `h-${rid}`, text: 'h'.repeat(c.maxFrameBytes + randomInt(r, c.maxFrameBytes)) }), binary: false, expect: 'error', rid: undefined, kind: 'huge' };
  }],
  // Binary frames: random bytes, or a valid frame sent as binary.
  [5, (r, c) => {
    const data = r() < 0.5 ? Buffer.from(Array.from({ length: 1 + randomInt(r, 512) }, () => randomInt(r, 256))) : Buffer.from(JSON.stringify(validObject(r, c)));
    return { data, binary: true, expect: 'error', rid: undefined, kind: 'binary' };
  }],
  // A rid of the wrong type.
  [3, (r) => ({ data: JSON.stringify({ type: 'ping', rid: pick(r, [{}, [], true, null, { n: 1 }]) }), binary: false, expect: 'error', rid: undefined, kind: 'bad-rid' })],
  // Invalid UTF-8 in a text frame: the connection is failed (1007).
  [1, (r, c) => {
    const valid = Buffer.from(JSON.stringify({ type: 'send', rid: c.nextId(), room: c.room, clientMsgId: 'u', text: 'abc' }));
    const bad = pick(r, [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]);
    const at = 1 + randomInt(r, valid.length - 2);
    return { data: Buffer.concat([valid.subarray(0, at), Buffer.from(bad), valid.subarray(at)]), binary: false, expect: 'close', rid: undefined, kind: 'invalid-utf8' };
  }],
];

const totalWeight = generators.reduce((sum, [w]) => sum + w, 0);

/**
 * A seeded source of fuzz frames for one socket: the same seed gives the same frames. One frame in
 * `hugeEvery` (0 = never) is over 4x the frame limit, which ws answers by closing with 1009.
 */
export function frameGenerator(random: Random, ctx: GeneratorContext, hugeEvery = 5_000): () => FuzzFrame {
  let count = 0;
  return () => {
    count++;
    if (hugeEvery > 0 && count % hugeEvery === 0) {
      return { data: `{"type":"send","text":"${'z'.repeat(ctx.maxFrameBytes * 4 + 1)}"}`, binary: false, expect: 'close', rid: undefined, kind: 'over-4x' };
    }
    let ticket = random() * totalWeight;
    for (const [weight, make] of generators) {
      if ((ticket -= weight) < 0) return make(random, ctx);
    }
    return generators[0]![1](random, ctx);
  };
}
