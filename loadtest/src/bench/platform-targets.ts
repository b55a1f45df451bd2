import type { BenchTarget } from './bench-target.js';

/** Placeholder until local/src/platform.ts (startPlatform) lands; see platform-targets in the next commit. */
export async function startPlatformTargets(_log: (line: string) => void): Promise<{
  target(key: 'a' | 'b' | 'c'): BenchTarget;
  stop(): Promise<void>;
}> {
  throw new Error('the local platform (local/src/platform.ts startPlatform) is not available yet; run with --rows d');
}
