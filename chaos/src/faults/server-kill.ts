import { elapsedSince, type Fault } from './fault.js';

/**
 * kill -9 of a server, down for `downMs` (a restart is never instant), then started again on the
 * same port and data directory; the outage lasts until it is ready.
 */
export function serverKill(name: string, downMs: number): Fault {
  return {
    async inject({ platform, log }) {
      const server = platform.control(name);
      const start = performance.now();
      log(`kill -9 ${name} (pid ${server.pid}); down for ${downMs} ms`);
      await server.kill();
      await new Promise((r) => setTimeout(r, downMs)); // the outage is part of the fault
      await server.start();
      const ms = elapsedSince(start);
      log(`${name} restarted and ready after ${ms} ms (pid ${server.pid})`);
      return { description: `kill -9 ${name}, restarted and ready after ${ms} ms`, serverOutageMs: ms };
    },
  };
}
