import { startBareBroadcastServer } from './bare-broadcast-server.js';

/**
 * Runs the bare broadcast server as its own process (so the bench measures its CPU apart from the
 * load tester's). Prints one JSON line {"url"} once listening; stops on SIGTERM/SIGINT.
 */
const port = Number(process.env.PORT ?? '0');
const server = await startBareBroadcastServer({ port: Number.isInteger(port) ? port : 0 });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
