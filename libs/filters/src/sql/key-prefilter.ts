import type { ArtifactQueryFilters } from './artifact-query';

// A cheap test of a changed key, run in the query app before the database is asked:
// false only when the key's own criteria (artifacts.key any_ / like_ under and_) rule
// the row out, whatever its other columns hold. The database still decides every
// key that passes, so the test never changes an answer; it keeps a subscription's
// filter out of the read for keys it cannot match.

const ASCII = /^[\x20-\x7e]*$/;

/** `%like_%` as PostgreSQL's ILIKE reads it, for a printable ASCII pattern without the escape character; else undefined. */
function likeTest(like: string): ((key: string) => boolean) | undefined {
  if (!ASCII.test(like) || like.includes('\\')) return undefined;
  const body = like.replace(/[.*+?^${}()|[\]/]/g, '\\$&').replace(/%/g, '[\\s\\S]*').replace(/_/g, '[\\s\\S]');
  const pattern = new RegExp(`^[\\s\\S]*${body}[\\s\\S]*$`, 'i');
  // A key outside printable ASCII may fold to ASCII in the database's locale: the database decides.
  return (key) => !ASCII.test(key) || pattern.test(key);
}

/** The key test of a subscription's filter, or undefined when its key criteria cannot rule a row out alone. */
export function keyPrefilter(filters: ArtifactQueryFilters<'artifact_collection'>): ((key: string) => boolean) | undefined {
  const f = filters.artifacts;
  if (!f?.key || f.operator === 'or_') return undefined;
  const tests: ((key: string) => boolean)[] = [];
  if (f.key.any_ != null) {
    const keys = new Set(f.key.any_);
    tests.push((key) => keys.has(key));
  }
  if (f.key.like_) {
    const like = likeTest(f.key.like_);
    if (like) tests.push(like);
  }
  if (tests.length === 0) return undefined;
  return (key) => tests.every((test) => test(key));
}
