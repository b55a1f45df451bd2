import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { BenchTarget } from './bench-target.js';

/** Row (d): the bare broadcast server in its own process, so its CPU is measured apart from the load tester's. */
export async function startBareTarget(): Promise<BenchTarget> {
  const main = fileURLToPath(new URL('./bare-broadcast-main.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('bare broadcast server did not start in 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (error) {
        reject(error as Error);
      }
    });
    child.once('exit', (code) => reject(new Error(`bare broadcast server exited with ${code}`)));
  });
  return {
    key: 'd',
    label: '(d) bare ws broadcast (no queue, no DB)',
    gateways: [url],
    processes: () => (child.pid ? [{ name: 'bare-broadcast', pid: child.pid, kind: 'bare server' }] : []),
    prepare: async () => {},
    finish: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
