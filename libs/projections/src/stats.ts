/** Per-batch counters for metrics: events applied per type, events ignored per reason. */
export interface BatchStats {
  applied: Record<string, number>;
  ignored: Record<string, number>;
}

/**
 * Ignore reasons: `duplicate` (a create of an existing version, a delete of a deleted one),
 * `tombstoned` (a create of a deleted artifact), `stale` (an update older than the version),
 * `unknown_id` (an update or delete of an artifact never seen), `superseded` (a run event
 * folded away by a newer one for the same entity in the batch; its effect is still correct).
 */
export const IGNORE_REASONS = ['duplicate', 'tombstoned', 'stale', 'unknown_id', 'superseded'] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

export function emptyStats(): BatchStats {
  return { applied: {}, ignored: {} };
}

export function count(counters: Record<string, number>, name: string, by = 1): void {
  counters[name] = (counters[name] ?? 0) + by;
}

export function mergeStats(...all: BatchStats[]): BatchStats {
  const out = emptyStats();
  for (const s of all) {
    for (const [k, v] of Object.entries(s.applied)) count(out.applied, k, v);
    for (const [k, v] of Object.entries(s.ignored)) count(out.ignored, k, v);
  }
  return out;
}
