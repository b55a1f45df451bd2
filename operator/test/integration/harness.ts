import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubeApiServer, type RunningKubeApiServer } from '@chorus/local/servers/kube-apiserver';
import { kubectl, type KubectlResult } from '@chorus/local/servers/kubectl';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const crdPath = join(repoRoot, 'crds', 'chatcluster.yaml');
export const examplePath = join(repoRoot, 'examples', 'chatcluster.yaml');

export interface TestCluster {
  kube: RunningKubeApiServer;
  dir: string;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** kubectl that must succeed; returns stdout. */
  kc(args: string[], input?: string): Promise<string>;
  get(path: string): Promise<any>;
  stop(): Promise<void>;
}

/** A real kube-apiserver + etcd with the ChatCluster CRD installed (via the real kubectl). */
export async function startTestCluster(name: string): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), `chorus-${name}-`));
  const kube = await startKubeApiServer({ dataDir: dir });
  const run = (args: string[], input?: string) => kubectl(kube.kubeconfigPath, args, input);
  const kc = async (args: string[], input?: string) => {
    const result = await run(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  await kc(['apply', '--server-side', '-f', crdPath]);
  await kc(['wait', '--for=condition=Established', '--timeout=30s', 'crd/chatclusters.chorus.dev']);
  return {
    kube,
    dir,
    kubectl: run,
    kc,
    get: async (path: string) => {
      const response = await kube.request('GET', path);
      return response.status === 200 ? response.body : undefined;
    },
    stop: async () => {
      await kube.stop();
      // maxRetries: a removal racing the last writes of the stopped servers (ENOTEMPTY) is retried.
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** Polls until `check` returns a truthy value (which it returns), or fails with the last error. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
