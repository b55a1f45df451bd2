#!/usr/bin/env node
// Runs every compiled test file (<workspace>/dist/test/**/*.test.js) with node's test runner.
// `npm test -- gateway operator` runs only those workspaces.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const workspaces = ['shared', 'local', 'gateway', 'message-service', 'operator', 'loadtest', 'e2e', 'chaos'];
const only = process.argv.slice(2);
const selected = only.length > 0 ? workspaces.filter((w) => only.includes(w)) : workspaces;

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = selected.flatMap((w) => collect(join(root, w, 'dist', 'test'), []).sort());
if (files.length === 0) {
  console.error('no test files found; did `tsc -b` run?');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
