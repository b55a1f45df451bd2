/**
 * A server frame serialized and framed once, for every socket that gets it: a room message goes
 * to each member's socket, so the JSON, its UTF-8 bytes and the WebSocket frame around them are
 * built once per message, not once per delivery. Valid because the gateway's sockets never use
 * permessage-deflate and a server's frames are unmasked (RFC 6455 §5.1), so a text frame is the
 * same bytes on every socket.
 */
export class PreparedFrame {
  /** The complete WebSocket frame: header, then the payload. */
  readonly wire: Buffer;

  constructor(readonly json: string) {
    const payload = Buffer.from(json);
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const wire = Buffer.allocUnsafe(headerLength + length);
    wire[0] = 0x81; // FIN, opcode 1 (text)
    if (length < 126) {
      wire[1] = length;
    } else if (length < 65_536) {
      wire[1] = 126;
      wire.writeUInt16BE(length, 2);
    } else {
      wire[1] = 127;
      wire.writeBigUInt64BE(BigInt(length), 2);
    }
    payload.copy(wire, headerLength);
    this.wire = wire;
  }
}
