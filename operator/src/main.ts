#!/usr/bin/env node
import { createLogger } from '@chorus/shared/logging/logger';
import { loadConfig } from './config.js';
import { Operator } from './operator.js';

/** The operator process: `node operator/dist/src/main.js [--namespace ns] [--health-port 8081] ...` (see docs/operator.md). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('operator', { identity: config.identity });
  const operator = new Operator(config, {
    logger,
    onLostLeadership: () => {
      logger.error('leadership lost; exiting so a fresh replica can campaign');
      process.exit(1);
    },
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping (releasing the lease)');
    operator
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        logger.error({ err: String(error) }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await operator.start();
  logger.info({ healthPort: operator.healthPort, namespace: config.namespace || '(all)', leaderElection: config.leaderElection }, 'operator started');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
