import { FreezableRelay } from '@chorus/local/servers/freezable-relay';
import { elapsedSince, type Fault } from './fault.js';

/**
 * Freezes one service's link to nats-server under load: the connection stays open but nothing
 * from the server reaches the service (a stalled TCP path, as seen once under load). The service
 * must notice and reconnect by itself; the fault holds the frozen link until it has, or `holdMs`.
 * Not an outage of a server: rooms get the service-crash limit.
 */
export function natsLinkFreeze(service: string, holdMs: number): Fault {
  let relay: FreezableRelay | undefined;
  return {
    async prepare() {
      relay = new FreezableRelay();
      const port = await relay.listen();
      return {
        natsUrlFor: (name, natsUrl) => {
          if (name !== service) return natsUrl;
          relay!.relayTo(natsUrl);
          return `nats://127.0.0.1:${port}`;
        },
      };
    },
    async inject({ log }) {
      if (!relay) throw new Error('natsLinkFreeze: prepare() was not called before the platform started');
      const before = relay.accepted;
      const start = performance.now();
      const frozen = relay.freezeOpenLinks();
      log(`froze ${frozen} NATS link(s) of ${service} (server to ${service})`);
      while (relay.accepted === before && elapsedSince(start) < holdMs) await new Promise((r) => setTimeout(r, 50));
      const ms = elapsedSince(start);
      const reconnected = relay.accepted > before;
      log(reconnected ? `${service} reconnected to NATS ${ms} ms after the freeze` : `${service} did not reconnect within ${holdMs} ms`);
      return {
        description: `froze ${service}'s NATS link; ${reconnected ? `it reconnected after ${ms} ms` : `no reconnect within ${holdMs} ms`}`,
        serverOutageMs: 0,
      };
    },
    close() {
      relay?.close();
    },
  };
}
