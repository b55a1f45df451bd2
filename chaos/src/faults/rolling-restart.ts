import { elapsedSince, type Fault } from './fault.js';

/** SIGTERM each service in turn, start it again and wait until it is ready before the next one. */
export function rollingRestart(names: string[], graceMs = 15_000): Fault {
  return {
    async inject({ platform, log }) {
      const steps: string[] = [];
      for (const name of names) {
        const service = platform.control(name);
        const start = performance.now();
        log(`SIGTERM ${name} (pid ${service.pid})`);
        await service.stop(graceMs);
        const stoppedMs = elapsedSince(start);
        await service.start();
        const ms = elapsedSince(start);
        log(`${name} exited after ${stoppedMs} ms, ready again after ${ms} ms`);
        steps.push(`${name} ${ms} ms`);
      }
      return { description: `rolling SIGTERM restart: ${steps.join(', ')}`, serverOutageMs: 0 };
    },
  };
}
