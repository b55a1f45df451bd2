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
// Test files that start the single-node Kubernetes cluster run last, alone: the cluster is one
// per machine, and its dozen pods on 2 cores would slow the timing-sensitive tests beside it.
const alone = (file) => /[/\\]kubernetes-cluster\.test\.js$/.test(file);
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const run = (batch, parallel) =>
  batch.length === 0
    ? 0
    : (spawnSync(process.execPath, ['--test', `--test-concurrency=${parallel}`, '--test-reporter=spec', ...batch], {
        stdio: 'inherit',
        cwd: root,
      }).status ?? 1);
const first = run(files.filter((f) => !alone(f)), concurrency);
const second = run(files.filter(alone), '1');
process.exit(first || second);
