#!/usr/bin/env node
// Runs every compiled test file (<workspace>/dist/test/**/*.test.js) with node's test runner.
// `npm test -- gateway operator` runs only those workspaces.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

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

/** The spec reporter's closing "failing tests" block of each batch, repeated at the very end. */
const failureSummaries = [];
// Bounded: a summary longer than this is cut (the full text is in the output above it).
const summaryLimit = 64 * 1024;

function run(batch, parallel, label) {
  if (batch.length === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${parallel}`, '--test-reporter=spec', ...batch], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const marker = '✖ failing tests:';
    let summary;
    let carry = ''; // the marker may straddle two chunks
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      process.stdout.write(text);
      if (summary === undefined) {
        const window = carry + text;
        const at = window.indexOf(marker);
        if (at >= 0) summary = window.slice(at);
        else carry = window.slice(-marker.length);
      } else if (summary.length < summaryLimit) summary += text;
    });
    child.on('close', (code, signal) => {
      if (summary !== undefined) failureSummaries.push(`${label}:\n${summary.slice(0, summaryLimit)}`);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const first = await run(files.filter((f) => !alone(f)), concurrency, 'first batch (every file but the cluster one)');
const second = await run(files.filter(alone), '1', 'cluster batch');
if (failureSummaries.length > 0) {
  console.log('\n==== what failed, repeated from the batches above ====');
  for (const summary of failureSummaries) console.log(summary);
}
process.exit(first || second);
