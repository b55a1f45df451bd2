import { elapsedSince, type Fault } from './fault.js';

/** SIGSTOP a server for `pauseMs`, then SIGCONT: it keeps its sockets but answers nothing meanwhile. */
export function serverPause(name: string, pauseMs: number): Fault {
  return {
    async inject({ platform, log }) {
      const server = platform.control(name);
      const start = performance.now();
      log(`SIGSTOP ${name} (pid ${server.pid}) for ${pauseMs} ms`);
      server.signal('SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, pauseMs)); // the length of the outage is the fault itself
      } finally {
        server.signal('SIGCONT');
      }
      const ms = elapsedSince(start);
      log(`SIGCONT ${name} after ${ms} ms`);
      return { description: `SIGSTOP ${name}, SIGCONT after ${ms} ms`, serverOutageMs: ms };
    },
  };
}
