import cluster from 'node:cluster';
import type { ChildProcess } from 'node:child_process';

/**
 * Starts a gateway as a worker of Node's cluster module, with this process as the primary: a port
 * that every worker listens on is then held here, and each new connection is handed to the next
 * worker in turn (round-robin). After the hand-over the worker owns the socket, so the shared port
 * costs nothing per message, only per connection.
 */
export function forkGatewayWorker(gatewayMain: string, env: NodeJS.ProcessEnv): ChildProcess {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  // silent: stdin, stdout and stderr are pipes, as for every other managed process.
  cluster.setupPrimary({ exec: gatewayMain, args: [], silent: true });
  return cluster.fork(env).process;
}
