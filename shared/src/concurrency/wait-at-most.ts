/**
 * Waits for `work` to settle, or `ms` to pass, whichever comes first; never rejects. True when
 * the work settled in time. For shutdowns that wait for what is in flight, but not for ever.
 */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  if (!Number.isFinite(ms)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
