import type { ArtifactCollectionFilter } from '../schemas/artifact-filters';
import type { ArtifactQueryFilters } from './artifact-query';

// A subscription's filter decided in the query app on a changed collection row, as the
// SQL of artifact-filters.ts would decide it, or left to the database where the app
// cannot be sure. What the app decides: the collection's own columns (latest_id, key,
// flow_run_id, task_run_id, type) under and_/or_. What it leaves: a related filter
// (flow_runs, flows, deployments, task_runs: an EXISTS over the run tables), a like_
// holding a backslash (PostgreSQL's escape character) and a uuid the validation did not
// make canonical (the database's cast reads it). No NOT appears in those
// conditions, so a NULL column reads as false, as COALESCE(..., false) reads the whole.

/** A collection row's columns the test reads, as the database gives them as text. */
export interface LiveRow {
  key: string;
  latest_id: string;
  type: string | null;
  flow_run_id: string | null;
  task_run_id: string | null;
  /** `key` with A-Z lowered: what ILIKE compares, the key column being COLLATE "C" (migration 1700000000001). */
  folded: string;
}

/** true or false as the database would answer; undefined: ask the database. */
export type Verdict = boolean | undefined;
type Test = (row: LiveRow) => Verdict;

export function liveRow(key: string, latest_id: string, type: string | null, flow_run_id: string | null, task_run_id: string | null): LiveRow {
  return { key, latest_id, type, flow_run_id, task_run_id, folded: fold(key) };
}

/** The collation "C" lowers ASCII letters only (so K, the Kelvin sign, is not k, nor É é). */
const fold = (s: string) => s.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** The text PostgreSQL receives for a string: node-pg sends UTF-8, where a lone surrogate becomes U+FFFD. */
const sent = (s: string) => Buffer.from(s).toString();

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const always = (verdict: Verdict): Test => () => verdict;

/**
 * asSqlFilter's AND (`decisive` false) and OR (`decisive` true), three-valued: a member with the
 * decisive verdict decides; otherwise any undecided member leaves the whole undecided. An empty
 * list is TRUE for both, as asSqlFilter makes it.
 */
function combine(decisive: boolean, tests: Test[]): Test {
  if (tests.length === 0) return always(true);
  if (tests.length === 1) return tests[0] as Test;
  return (row) => {
    let verdict: Verdict = !decisive;
    for (const test of tests) {
      const v = test(row);
      if (v === decisive) return decisive;
      if (v === undefined) verdict = undefined;
    }
    return verdict;
  };
}

const all = (tests: Test[]): Test => combine(false, tests);
const any = (tests: Test[]): Test => combine(true, tests);

/** Criteria.any: `col = ANY(list)`; NULL and an empty list never match. */
function inList(list: readonly string[] | null | undefined, column: (row: LiveRow) => string | null): Test | undefined {
  if (list == null) return undefined;
  const values = new Set(list.map(sent));
  return (row) => {
    const value = column(row);
    return value !== null && values.has(value);
  };
}

/** A uuid column's Criteria.any; a value the validation did not make canonical is left to the database's cast. */
function inUuids(list: readonly string[] | null | undefined, column: (row: LiveRow) => string | null): Test | undefined {
  if (list != null && !list.every((id) => CANONICAL_UUID.test(id))) return always(undefined);
  return inList(list, column);
}

/** The folded like_ pattern PostgreSQL compares, or undefined when it imposes nothing or holds the escape character. */
function likePattern(value: string | null | undefined): string | undefined {
  if (value == null || value === '' || value.includes('\\')) return undefined;
  return fold(sent(value));
}

/** Criteria.like: `key ILIKE '%like_%'`, `%` and `_` live; '' imposes nothing. */
function like(value: string | null | undefined): Test | undefined {
  if (value == null || value === '') return undefined;
  const folded = likePattern(value);
  if (folded === undefined) return always(undefined);
  const body = folded
    .replace(/[.*+?^${}()|[\]/]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  // `s`: `_` matches a line break too; `u`: one `_` is one character, not one UTF-16 unit.
  const pattern = new RegExp(body, 'su');
  return (row) => pattern.test(row.folded);
}

const defined = (tests: (Test | undefined)[]) => tests.filter((t): t is Test => t !== undefined);

/** artifactCollectionFilter: each member present is one condition (all of its criteria), joined by `operator`. */
function collectionTest(f: ArtifactCollectionFilter): Test {
  const members: Test[] = [];
  if (f.latest_id) members.push(all(defined([inUuids(f.latest_id.any_, (r) => r.latest_id)])));
  if (f.key) {
    const { any_, like_, exists_ } = f.key;
    // A collection's key is NOT NULL: exists_ true always holds, false never (Q27).
    members.push(all(defined([inList(any_, (r) => r.key), like(like_), exists_ == null ? undefined : always(exists_)])));
  }
  if (f.flow_run_id) members.push(all(defined([inUuids(f.flow_run_id.any_, (r) => r.flow_run_id)])));
  if (f.task_run_id) members.push(all(defined([inUuids(f.task_run_id.any_, (r) => r.task_run_id)])));
  if (f.type) {
    const { any_, not_any_ } = f.type;
    // Criteria.notAny: NULL never matches; an empty list imposes nothing.
    const excluded = not_any_ == null || not_any_.length === 0 ? undefined : inList(not_any_, (r) => r.type);
    const notAny: Test | undefined = excluded && ((row) => row.type !== null && !excluded(row));
    members.push(all(defined([inList(any_, (r) => r.type), notAny])));
  }
  return f.operator === 'or_' ? any(members) : all(members);
}

export interface LiveTest {
  /** The filter's verdict on a changed row. */
  verdict: (row: LiveRow) => Verdict;
  /** A text that the folded key of every row the verdict does not answer false for contains: the like_ pattern's longest literal run under and_. */
  needs?: string;
}

/**
 * The filter's verdict on a changed row, as `artifactWhere('artifact_collection', ...)` would
 * give it, or undefined where only the database can tell (held against PostgreSQL, through
 * `candidates`, by live-verdict.int-spec.ts). Made once per filter.
 */
export function liveTest(filters: ArtifactQueryFilters<'artifact_collection'>): LiveTest {
  const tests: Test[] = [];
  const f = filters.artifacts;
  if (f) tests.push(collectionTest(f));
  const { flow_runs, flows, deployments, task_runs } = filters;
  if (flow_runs || flows || deployments || task_runs) tests.push(always(undefined));
  const pattern = f && f.operator !== 'or_' ? likePattern(f.key?.like_) : undefined;
  const needs = pattern?.split(/[%_]/).reduce((a, b) => (b.length > a.length ? b : a), '');
  return { verdict: all(tests), needs: needs || undefined };
}

const GRAM = 3;

/**
 * For a row, the indices of the filters that may not answer false: those whose `needs` its
 * folded key holds (looked up by the needed text's first three characters), and every filter
 * without one. The others answer false, so a step need not ask them row by row.
 */
export function candidates(tests: readonly LiveTest[]): (row: LiveRow) => Iterable<number> {
  const everywhere: number[] = [];
  const byGram = new Map<string, number[]>();
  tests.forEach((test, i) => {
    if (test.needs === undefined || test.needs.length < GRAM) everywhere.push(i);
    else {
      const gram = test.needs.slice(0, GRAM);
      const list = byGram.get(gram);
      if (list) list.push(i);
      else byGram.set(gram, [i]);
    }
  });
  return (row) => {
    const found = [...everywhere];
    // A filter is under one text only: each text looked up once gives it once.
    const looked = new Set<string>();
    for (let at = 0; at + GRAM <= row.folded.length; at++) {
      const gram = row.folded.slice(at, at + GRAM);
      if (looked.has(gram)) continue;
      looked.add(gram);
      for (const i of byGram.get(gram) ?? []) found.push(i);
    }
    return found;
  };
}
