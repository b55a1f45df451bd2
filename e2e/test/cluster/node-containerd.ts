/**
 * The test node's containerd, driven with `ctr` as the node's administrator would: tag a local
 * image under a second name (a "new version" pods can start without any registry), and freeze or
 * thaw one container (runc's cgroup freezer: the process stops dead, as on a stalled node, and
 * resumes where it was).
 */
import { join } from 'node:path';
import { runCommand } from '@chorus/local/servers/run-command';
import { clusterDir } from './kube-cluster.js';

const env = { ...process.env, CONTAINERD_ADDRESS: join(clusterDir, 'run', 'containerd', 'containerd.sock'), CONTAINERD_NAMESPACE: 'k8s.io' };

async function ctr(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCommand('ctr', args, { env });
  if (code !== 0) throw new Error(`ctr ${args.join(' ')} failed (${code}): ${stderr || stdout}`);
  return stdout;
}

/** Tags `source` as `target` in the node's image store (pods with imagePullPolicy Never can use it at once). */
export async function tagImage(source: string, target: string): Promise<void> {
  await ctr(['images', 'tag', '--force', source, target]);
}

/** The containerd id of a pod's container, from its status (`containerd://<id>`). */
export function containerId(pod: { status?: { containerStatuses?: { name: string; containerID?: string }[] } }, container: string): string {
  const id = pod.status?.containerStatuses?.find((c) => c.name === container)?.containerID;
  if (!id?.startsWith('containerd://')) throw new Error(`container ${container} has no containerd id yet: ${JSON.stringify(pod.status?.containerStatuses)}`);
  return id.slice('containerd://'.length);
}

export async function freezeContainer(id: string): Promise<void> {
  await ctr(['tasks', 'pause', id]);
}

/** Resumes a frozen container; one the kubelet has meanwhile killed (its liveness probe failed) is gone, with nothing to thaw. */
export async function thawContainer(id: string): Promise<void> {
  await ctr(['tasks', 'resume', id]).catch((error: Error) => {
    if (!/not found/.test(error.message)) throw error;
  });
}
