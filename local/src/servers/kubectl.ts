import { binaries } from './binaries.js';
import { runCommand, type CommandResult } from './run-command.js';

export type KubectlResult = CommandResult;

/**
 * Runs the real kubectl against a kubeconfig (e.g. RunningKubeApiServer.kubeconfigPath);
 * `input` is written to stdin (for `apply -f -`). Never throws on a non-zero exit: callers assert.
 */
export function kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<KubectlResult> {
  return runCommand(binaries.kubectl(), ['--kubeconfig', kubeconfigPath, ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
    ...(input !== undefined && { input }),
  });
}
