import type { KubeObject } from '../kube/kube-object.js';

interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
}

/**
 * A StatefulSet's volumeClaimTemplates cannot change after creation: applying a new storage size
 * or class would fail the whole apply (and block every other change to that StatefulSet). Keep
 * the live values instead and say so; resizing existing PVCs is a manual step.
 */
export function keepImmutableFields(desired: KubeObject, live: KubeObject | undefined): { object: KubeObject; warnings: string[] } {
  if (desired.kind !== 'StatefulSet' || !live) return { object: desired, warnings: [] };
  const liveTemplates = ((live.spec as { volumeClaimTemplates?: ClaimTemplate[] } | undefined)?.volumeClaimTemplates ?? []);
  const spec = desired.spec as { volumeClaimTemplates?: ClaimTemplate[] };
  if (!spec.volumeClaimTemplates?.length) return { object: desired, warnings: [] };
  const warnings: string[] = [];
  const templates = spec.volumeClaimTemplates.map((template) => {
    const current = liveTemplates.find((t) => t.metadata?.name === template.metadata?.name);
    if (!current) return template;
    const wantSize = template.spec?.resources?.requests?.storage;
    const haveSize = current.spec?.resources?.requests?.storage;
    const wantClass = template.spec?.storageClassName;
    const haveClass = current.spec?.storageClassName;
    let next = template;
    if (haveSize && wantSize !== haveSize) {
      warnings.push(`${desired.metadata.name}: storage stays ${haveSize} (asked for ${wantSize}); volumeClaimTemplates are immutable, expand the PVCs by hand`);
      next = { ...next, spec: { ...next.spec, resources: { ...next.spec?.resources, requests: { ...next.spec?.resources?.requests, storage: haveSize } } } };
    }
    if (wantClass !== undefined && haveClass !== undefined && wantClass !== haveClass) {
      warnings.push(`${desired.metadata.name}: storageClassName stays ${haveClass} (asked for ${wantClass}); volumeClaimTemplates are immutable`);
      next = { ...next, spec: { ...next.spec, storageClassName: haveClass } };
    }
    return next;
  });
  return { object: { ...desired, spec: { ...spec, volumeClaimTemplates: templates } }, warnings };
}
