import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and captures its output; `input` goes to stdin. Never throws on a
 * non-zero exit: callers decide what a failure means (tests assert on it).
 */
export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading stdin (sysctl, iptables) makes this write fail with
    // EPIPE; the exit code tells what happened, so the write error is not an error of its own.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
