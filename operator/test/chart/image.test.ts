import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { parseSpec } from '../../src/api/chatcluster-spec.js';
import type { ChatCluster } from '../../src/api/chatcluster.js';
import { buildContext } from '../../src/builders/build-context.js';
import { desiredState } from '../../src/builders/desired-state.js';
import { uids } from '../../src/builders/pod-security.js';
import { examplePath, repoRoot } from '../integration/harness.js';
import { dockerignore, parseDockerfile, type Stage } from './dockerfile.js';
import { chartDir, createHelm, podSpecs } from './helm.js';

/**
 * The one Chorus image cannot be built here (no container daemon), so this checks the Dockerfile
 * against the repository instead: every file it COPYs exists (and survives .dockerignore), every
 * compiled path it takes from the build stage is produced by `tsc -b` (this test runs after it),
 * and every entry point (its CMD, the chart's containers, the pods the operator renders) starts
 * with `node` and names a file the runtime stage contains.
 */
describe('the Chorus image (Dockerfile)', () => {
  const { stages } = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const ignored = dockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages.at(-1)!;
  const helm = createHelm();
  after(() => helm.cleanup());

  const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.raw.replace(/\s+/g, ' '));
  const contextSources = (stage: Stage) => stage.copies.filter((c) => !c.from).flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));

  /** Repository path of a file the runtime stage holds at `path` (relative to its WORKDIR), if any. */
  function sourceInRepo(path: string): string | undefined {
    const target = posix.resolve(runtime.workdir, path);
    for (const copy of [...runtime.copies].reverse()) {
      if (copy.sources.length !== 1) continue;
      if (target !== copy.dest && !target.startsWith(`${copy.dest}/`)) continue;
      const rest = target.slice(copy.dest.length);
      if (copy.from) {
        const from = stages.find((s) => s.name === copy.from);
        assert.ok(from, `COPY --from=${copy.from}: no such stage`);
        return posix.relative(from.workdir, copy.sources[0] + rest);
      }
      return copy.sources[0]!.replace(/\/$/, '') + rest;
    }
    return undefined;
  }

  function assertImageHas(path: string, where: string): string {
    const source = sourceInRepo(path);
    assert.ok(source, `${where}: ${path} is not copied into the runtime stage`);
    assert.ok(existsSync(join(repoRoot, source)), `${where}: ${path} comes from ${source}, which does not exist (after tsc -b)`);
    return source;
  }

  /** The file `loadtest` on PATH points at (a symlink the runtime stage makes). */
  function loadtestOnPath(): string {
    const link = runs(runtime)
      .map((r) => /ln -s (\S+) \/usr\/local\/bin\/loadtest\b/.exec(r)?.[1])
      .find(Boolean);
    assert.ok(link, 'the runtime stage links `loadtest` into /usr/local/bin');
    return posix.relative(runtime.workdir, link);
  }

  function assertEntryPoint(command: string[] | undefined, workingDir: string | undefined, where: string): void {
    assert.ok(command?.length, `${where}: names its command explicitly`);
    assert.ok(workingDir === undefined || workingDir === runtime.workdir, `${where}: workingDir ${workingDir} is the image's ${runtime.workdir}`);
    if (command[0] === 'node') {
      // `node -e <code>` (the idle load-tester pod) runs inline code; otherwise the first non-flag names the script.
      if (command.includes('-e') || command.includes('--eval')) return;
      const script = command.slice(1).find((arg) => !arg.startsWith('-'));
      assert.ok(script, `${where}: node without a script`);
      assertImageHas(script, where);
    } else if (command[0] === 'loadtest') {
      // The operator's load-test Job calls the CLI by name: it must be a node script.
      const source = assertImageHas(loadtestOnPath(), where);
      assert.equal(readFileSync(join(repoRoot, source), 'utf8').split('\n')[0], '#!/usr/bin/env node', `${where}: ${source} runs with node`);
      assert.ok(runs(runtime).some((r) => r.includes(`chmod 0755 ${loadtestOnPath()}`)), `${where}: the CLI is executable`);
    } else {
      assert.fail(`${where}: entry point ${JSON.stringify(command)} does not start with node`);
    }
  }

  test('two stages: a build stage and a slim node runtime that runs as a non-root user', () => {
    assert.ok(build, 'a stage named build');
    assert.equal(stages.length, 2);
    assert.match(runtime.image, /^node:20[-.\w]*-slim$/);
    assert.equal(runtime.workdir, '/app');
    assert.ok(runtime.user, 'USER is set in the runtime stage');
    const uid = runtime.user.split(':')[0]!;
    assert.ok(uid !== 'root' && uid !== '0', `runs as ${runtime.user}`);
    assert.ok(/^\d+$/.test(uid), 'a numeric uid, so runAsNonRoot can verify it');
    assert.equal(String(uids.chorus), uid, 'the operator runs Chorus pods as the image user');
  });

  test('the build stage installs everything and compiles; the runtime stage takes production dependencies only', () => {
    assert.ok(runs(build!).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit')), 'build: npm ci');
    assert.ok(runs(build!).some((r) => /npx tsc -b\b/.test(r)), 'build: tsc -b');
    assert.ok(runs(runtime).some((r) => /^npm ci .*--omit=dev/.test(r)), 'runtime: npm ci --omit=dev');
    assert.ok(!runs(runtime).some((r) => /tsc|npm (install|i) /.test(r)), 'runtime: no compiler, no ad-hoc installs');
    // From the context the runtime takes only manifests and static files, never sources.
    for (const source of contextSources(runtime)) {
      assert.ok(/(^|\/)package(-lock)?\.json$/.test(source) || source === 'gateway/public', `runtime copies ${source} from the context`);
    }
  });

  test('every file COPYed from the build context exists and is not excluded by .dockerignore', () => {
    const sources = stages.flatMap(contextSources);
    assert.ok(sources.length > 10);
    for (const source of sources) {
      assert.ok(existsSync(join(repoRoot, source)), `COPY ${source}: missing in the repository`);
      assert.ok(!ignored(source), `COPY ${source}: excluded by .dockerignore`);
    }
    // What .dockerignore must keep out: host builds and dependencies would clobber the image's own.
    for (const path of ['node_modules', 'gateway/node_modules', 'gateway/dist', 'operator/dist/src/main.js', '.git', 'shared/tsconfig.tsbuildinfo']) {
      assert.ok(ignored(path), `.dockerignore excludes ${path}`);
    }
    for (const path of ['gateway/src/main.ts', 'gateway/public/index.html', 'package-lock.json', 'loadtest/package.json']) {
      assert.ok(!ignored(path), `.dockerignore keeps ${path}`);
    }
  });

  test('what the runtime takes from the build stage is compiled there (after tsc -b it exists)', () => {
    const fromBuild = runtime.copies.filter((c) => c.from === 'build');
    assert.ok(fromBuild.length >= 5);
    const compiled = runs(build!).find((r) => /npx tsc -b\b/.test(r))!.split(' ');
    const buildSources = new Set(contextSources(build!));
    const runtimeWorkspaces = new Set<string>();
    for (const copy of fromBuild) {
      const path = posix.relative(build!.workdir, copy.sources[0]!);
      const workspace = path.split('/')[0]!;
      runtimeWorkspaces.add(workspace);
      assert.ok(existsSync(join(repoRoot, path)), `COPY --from=build ${copy.sources[0]}: ${path} does not exist after tsc -b`);
      assert.ok(compiled.includes(workspace), `the build stage compiles ${workspace}`);
      assert.ok(buildSources.has(workspace) && !ignored(`${workspace}/src`), `the build stage has ${workspace}'s sources`);
      // Project references are compiled too, so their sources must be in the build stage as well.
      const tsconfig = JSON.parse(readFileSync(join(repoRoot, workspace, 'tsconfig.json'), 'utf8')) as { references?: { path: string }[] };
      for (const ref of tsconfig.references ?? []) assert.ok(buildSources.has(posix.basename(ref.path)), `${workspace} references ${ref.path}`);
    }
    // Every @chorus/* package a runtime workspace depends on is in the image too.
    for (const workspace of runtimeWorkspaces) {
      const pkg = JSON.parse(readFileSync(join(repoRoot, workspace, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@chorus/'))) {
        assert.ok(runtimeWorkspaces.has(dep.slice('@chorus/'.length)), `${workspace} needs ${dep} at run time`);
      }
      assert.ok(runs(runtime).some((r) => r.includes(`--workspace=${workspace}`)), `production dependencies of ${workspace} are installed`);
    }
    assertImageHas('gateway/public/index.html', 'the browser client');
  });

  test("the load tester's default report folder is writable under a read-only root filesystem", () => {
    // `loadtest ...` without --out writes reports/loadtest relative to the working dir; pods mount an emptyDir at /tmp.
    assert.ok(runs(runtime).some((r) => r.includes(`ln -s /tmp ${runtime.workdir}/reports`)), 'reports -> /tmp');
    assert.match(readFileSync(join(repoRoot, 'loadtest', 'src', 'cli-main.ts'), 'utf8'), /'--out <dir>'[^)]*'reports\/loadtest'/, 'the CLI default is still reports/loadtest');
  });

  test('CMD starts with node and names a file the image has', () => {
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
    assert.ok(cmd.length >= 1);
    for (const instruction of cmd) {
      assert.ok(instruction.exec, `${instruction.keyword} in exec form (no shell)`);
      assertEntryPoint(instruction.args, undefined, instruction.keyword);
    }
  });

  test("the chart's containers that run the Chorus image use entry points the image has", async () => {
    const objects = await helm.template(['-f', join(chartDir, 'ci', 'full-values.yaml')]);
    let checked = 0;
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (!String(c.image).startsWith('ghcr.io/chorus-chat/chorus:')) continue;
        assertEntryPoint(c.command, c.workingDir, `chart ${owner}/${c.name}`);
        checked++;
      }
    }
    assert.ok(checked >= 2, 'the operator and the helm test pod');
  });

  test('the pods the operator renders from the Chorus image use entry points the image has', () => {
    const cr = parse(readFileSync(examplePath, 'utf8')) as ChatCluster;
    cr.metadata = { ...cr.metadata, namespace: 'default', uid: '00000000-0000-0000-0000-000000000000' };
    const parsed = parseSpec(cr.spec);
    assert.ok(parsed.ok, 'the example spec is valid');
    const ctx = buildContext(cr, parsed.spec);
    const image = `${parsed.spec.image}:${parsed.spec.version}`;
    const commands = new Map<string, string[]>();
    for (const { owner, spec } of podSpecs(desiredState(ctx))) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if (c.image !== image) continue;
        assertEntryPoint(c.command, c.workingDir, `operator ${owner}/${c.name}`);
        commands.set(owner, c.command);
      }
    }
    assert.deepEqual(commands.get('Deployment/demo-gateway'), ['node', 'gateway/dist/src/main.js']);
    assert.deepEqual(commands.get('Deployment/demo-message-service'), ['node', 'message-service/dist/src/main.js']);
    assert.ok([...commands.keys()].some((k) => k.startsWith('Job/demo-loadtest-')), 'the load-test Job');
  });

  test(
    "the idle load-tester pod tells `loadtest` where the gateway is (docs: kubectl exec deploy/<name>-loadtest -- loadtest new-year)",
    () => {
      const cr = parse(readFileSync(examplePath, 'utf8')) as ChatCluster;
      cr.metadata = { ...cr.metadata, namespace: 'default', uid: '00000000-0000-0000-0000-000000000000' };
      const parsed = parseSpec(cr.spec);
      assert.ok(parsed.ok);
      const idle = desiredState(buildContext(cr, parsed.spec)).find((o) => o.kind === 'Deployment' && o.metadata.name === 'demo-loadtest') as any;
      const env = Object.fromEntries(idle.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      assert.equal(env.LOADTEST_GATEWAY, 'http://demo-gateway:8080');
    },
  );
});
