import { createServer } from 'node:net';

// Picked below the kernel's ephemeral range (32768-60999 by default), so no outgoing connection
// or listen(0) elsewhere can take it between our pick and the server's bind; above 29999 lies
// Kubernetes' NodePort range, which the test cluster uses.
const pickFrom = 10_000;
const pickTo = 29_999;

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = pickFrom + Math.floor(Math.random() * (pickTo - pickFrom + 1));
    if (await canListen(port)) return port;
  }
  return listenOn(0);
}

function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const portTaken = /address already in use|EADDRINUSE/i;

/**
 * Starts a server on ports picked by freePort(), again on fresh ones when another process took
 * one of them between the pick and the bind (parallel tests do).
 */
export async function startOnFreePorts<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !portTaken.test(String((error as Error)?.message))) throw error;
    }
  }
}
