/** One preflight check: its name (the one an Event names when it fails) and what it found. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the preflight leaves in its pod's termination message for the operator (at most 4 KiB). */
export interface PreflightSummary {
  ok: boolean;
  version: string;
  failed?: { check: string; detail: string };
  passed: string[];
}

export function summarize(version: string, results: CheckResult[]): PreflightSummary {
  const failed = results.find((r) => !r.ok);
  return {
    ok: !failed,
    version,
    ...(failed && { failed: { check: failed.name, detail: failed.detail.slice(0, 1500) } }),
    passed: results.filter((r) => r.ok).map((r) => r.name),
  };
}
