import type { WireProtocol } from './wire-protocol.js';
import { v1Protocol } from './v1-protocol.js';
import { v2Protocol } from './v2-protocol.js';

/** The protocol versions the suite speaks, by name (`--protocol`). */
export const protocols: Record<string, WireProtocol> = { v1: v1Protocol, v2: v2Protocol };

/**
 * The version the platform in this checkout speaks. The one line to change when the gateway
 * switches to v2.
 */
export const currentProtocol: WireProtocol = v2Protocol;

export function protocolNamed(name: string): WireProtocol {
  const protocol = protocols[name];
  if (!protocol) throw new Error(`unknown protocol "${name}"; one of ${Object.keys(protocols).join(', ')}`);
  return protocol;
}
