import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { binaries } from '@chorus/local/servers/binaries';
import { runCommand, type CommandResult } from '@chorus/local/servers/run-command';
import { repoRoot } from '../integration/harness.js';

export const chartDir = join(repoRoot, 'charts', 'chorus');
export const ciValuesFiles = readdirSync(join(chartDir, 'ci'))
  .filter((name) => name.endsWith('-values.yaml'))
  .sort()
  .map((name) => join(chartDir, 'ci', name));

export type HelmResult = CommandResult;

export interface Helm {
  run(args: string[]): Promise<HelmResult>;
  /** helm that must succeed; returns stdout. */
  ok(args: string[]): Promise<string>;
  /** `helm template` of the chart with extra args (e.g. -f file), parsed into objects. */
  template(args?: string[]): Promise<any[]>;
  cleanup(): void;
}

/**
 * The real helm with its cache, config and data in a temp dir (no repositories, no plugins, nothing
 * fetched), optionally against a kubeconfig.
 */
export function createHelm(kubeconfigPath?: string): Helm {
  const home = mkdtempSync(join(tmpdir(), 'chorus-helm-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: kubeconfigPath ?? join(home, 'no-kubeconfig'),
  };
  for (const dir of ['cache', 'config', 'data']) mkdirSync(join(home, dir));
  const run = (args: string[]): Promise<HelmResult> => runCommand(binaries.helm(), args, { env });
  const ok = async (args: string[]) => {
    const result = await run(args);
    if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  return {
    run,
    ok,
    template: async (args = []) => parseManifests(await ok(['template', 'chorus', chartDir, ...args])),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Multi-document YAML (helm's output) into objects, skipping empty documents. */
export function parseManifests(text: string): any[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`invalid YAML from helm: ${doc.errors[0]!.message}`);
      return doc.toJS();
    })
    .filter((obj) => obj && typeof obj === 'object');
}

export function find(objects: any[], kind: string, name?: string): any {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? `/${name}` : ''} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found;
}

/** Pod specs of every workload (Deployment, StatefulSet, Job templates and bare Pods). */
export function podSpecs(objects: any[]): { owner: string; spec: any }[] {
  return objects.flatMap((o) => {
    const owner = `${o.kind}/${o.metadata?.name}`;
    if (o.kind === 'Pod') return [{ owner, spec: o.spec }];
    if (['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind)) return [{ owner, spec: o.spec.template.spec }];
    return [];
  });
}
