import { elapsedSince, type Fault } from './fault.js';

/** kill -9 of one service process (gateway or message-service), then start it again, as a supervisor would. */
export function serviceCrash(name: string): Fault {
  return {
    async inject({ platform, log }) {
      const service = platform.control(name);
      const start = performance.now();
      log(`kill -9 ${name} (pid ${service.pid})`);
      await service.kill();
      await service.start();
      const ms = elapsedSince(start);
      log(`${name} is back and ready after ${ms} ms (pid ${service.pid})`);
      return { description: `kill -9 ${name}, restarted and ready after ${ms} ms`, serverOutageMs: 0 };
    },
  };
}
