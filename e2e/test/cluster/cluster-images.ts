/**
 * The images the test cluster imports (scripts/build-cluster.sh builds them into the cache): the
 * Chorus image of the current tree, and NATS, Redis and FerretDB made from the binaries the
 * project already has. Names are localhost/... and pods never pull them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, repoRoot } from '@chorus/local/servers/binaries';

const exec = promisify(execFile);

export interface ClusterImages {
  chorus: string;
  chorusTar: string;
  nats: string;
  redis: string;
  ferretdb: string;
  /** The chart's optional Jaeger, from `scripts/bootstrap.sh jaeger` (see `jaegerTar`). */
  jaeger: string;
  /** Its archive: imported when it exists (the tracing test is skipped without it). */
  jaegerTar: string;
  /** scripts/versions.env */
  versions: Record<string, string>;
  /** OCI archives besides Chorus's (pause and CoreDNS are imported by up.sh itself). */
  tars: Record<'nats' | 'redis' | 'ferretdb', string>;
}

function versions(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'scripts', 'versions.env'), 'utf8');
  return Object.fromEntries(text.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]));
}

export async function clusterImages(): Promise<ClusterImages> {
  const v = versions();
  const { stdout: chorus } = await exec('bash', [join(repoRoot, 'scripts', 'cluster', 'build-chorus-image.sh'), '--name']);
  const { stdout: redisVersion } = await exec('dpkg-query', ['-W', '-f', '${Version}', 'redis-server']);
  const redis = redisVersion.replace(/^\d+:/, '').replace(/-.*/, '');
  const images = join(cacheDir, 'images');
  const name = chorus.trim();
  return {
    versions: v,
    chorus: name,
    chorusTar: join(images, `chorus-${name.split(':dev-')[1]}.tar`),
    nats: `localhost/nats:${v.NATS_SERVER_VERSION!.replace(/^v/, '')}`,
    redis: `localhost/redis:${redis}`,
    ferretdb: `localhost/ferretdb:${v.FERRETDB_VERSION!.replace(/^v/, '')}`,
    jaeger: `localhost/jaeger:${v.JAEGER_VERSION!.replace(/^v/, '')}`,
    jaegerTar: join(images, `jaeger-${v.JAEGER_VERSION}.tar`),
    tars: {
      nats: join(images, `nats-${v.NATS_SERVER_VERSION}.tar`),
      redis: join(images, `redis-${redis}.tar`),
      ferretdb: join(images, `ferretdb-${v.FERRETDB_VERSION}.tar`),
    },
  };
}
