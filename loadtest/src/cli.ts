#!/usr/bin/env node
import { exitCodes, main } from './cli-main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`loadtest: ${String(error)}\n`);
    process.exitCode = exitCodes.crashed;
  },
);
