import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

/** The public scenarios live in the repository (test/conformance/scenarios); CONFORMANCE_DIR may point at another set. */
export const CONFORMANCE_DIR = process.env.CONFORMANCE_DIR ?? join(__dirname, '..', 'conformance', 'scenarios');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json } | unknown;

export interface Operation {
  op: string;
  ref: string;
  [field: string]: unknown;
}

export interface ScenarioRequest {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  body?: unknown;
  /** Sent verbatim instead of `body`: bodies a JSON scenario file cannot hold (`NaN`, exact number text). */
  raw_body?: string;
  expect: Record<string, unknown> & { status: number };
}

export interface Scenario {
  name: string;
  source: string;
  given: Operation[];
  requests: ScenarioRequest[];
}

export function loadScenarios(file: string): Scenario[] {
  // Lossless, so that `1.0` in a scenario's data reaches the event as `1.0`.
  return losslessParse(readFileSync(join(CONFORMANCE_DIR, file), 'utf8')) as Scenario[];
}

/** The scenario files, sorted; a folder without any is an error, never an empty (passing) suite. */
export function scenarioFiles(): string[] {
  const files = readdirSync(CONFORMANCE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no conformance scenarios (*.json) in ${CONFORMANCE_DIR}`);
  return files;
}

export interface ProducedEvent {
  topic: 'artifacts' | 'runs';
  key: string;
  cloudEvent: { specversion: '1.0'; id: string; source: string; type: string; time: string; subject: string; data: Record<string, unknown> };
}

// Flows and deployments carry no times in the scenarios; no expectation depends on them.
const EPOCH = '2024-01-01T00:00:00Z';

/** Turns a scenario's `given` into events of docs/events.md, one per operation (phantoms send nothing). */
export function scenarioEvents(given: Operation[], refs: Map<string, string>): ProducedEvent[] {
  const id = (ref: unknown): string | null => {
    if (ref === undefined || ref === null) return null;
    let uuid = refs.get(String(ref));
    if (!uuid) {
      uuid = randomUUID();
      refs.set(String(ref), uuid);
    }
    return uuid;
  };
  const artifactKeys = new Map<string, string | null>();
  const events: ProducedEvent[] = [];
  const emit = (topic: ProducedEvent['topic'], type: string, key: string, time: string, data: Record<string, unknown>) =>
    events.push({ topic, key, cloudEvent: { specversion: '1.0', id: randomUUID(), source: '/conformance/runner', type, time, subject: String(data.id), data } });
  const opt = (op: Operation, field: string) => (op[field] === undefined ? null : op[field]);

  for (const op of given) {
    const self = id(op.ref)!;
    const created = (op.created as string | undefined) ?? EPOCH;
    switch (op.op) {
      case 'phantom':
        break;
      case 'flow':
        emit('runs', 'prefect.flow.upserted', self, created, { id: self, name: op.name, tags: op.tags ?? [], created, updated: created });
        break;
      case 'deployment':
        emit('runs', 'prefect.deployment.upserted', self, created, {
          id: self,
          flow_id: id(op.flow),
          name: op.name,
          tags: op.tags ?? [],
          work_queue_name: opt(op, 'work_queue_name'),
          paused: op.paused ?? false,
          concurrency_limit: opt(op, 'concurrency_limit'),
          created,
          updated: created,
        });
        break;
      case 'flow_run':
        emit('runs', 'prefect.flow-run.upserted', self, created, {
          id: self,
          flow_id: id(op.flow),
          deployment_id: id(op.deployment),
          name: op.name,
          tags: op.tags ?? [],
          state_type: opt(op, 'state_type'),
          state_name: opt(op, 'state_name'),
          flow_version: opt(op, 'flow_version'),
          work_queue_name: opt(op, 'work_queue_name'),
          parent_task_run_id: id(op.parent_task_run),
          idempotency_key: opt(op, 'idempotency_key'),
          start_time: opt(op, 'start_time'),
          end_time: opt(op, 'end_time'),
          expected_start_time: opt(op, 'expected_start_time'),
          next_scheduled_start_time: opt(op, 'next_scheduled_start_time'),
          created_by: opt(op, 'created_by'),
          created,
          updated: created,
        });
        break;
      case 'task_run':
        emit('runs', 'prefect.task-run.upserted', self, created, {
          id: self,
          flow_run_id: id(op.flow_run),
          name: op.name,
          tags: op.tags ?? [],
          task_key: opt(op, 'task_key'),
          dynamic_key: opt(op, 'dynamic_key'),
          state_type: opt(op, 'state_type'),
          state_name: opt(op, 'state_name'),
          start_time: opt(op, 'start_time'),
          end_time: opt(op, 'end_time'),
          expected_start_time: opt(op, 'expected_start_time'),
          created,
          updated: created,
        });
        break;
      case 'artifact_create': {
        const key = (op.key as string | undefined) ?? null;
        artifactKeys.set(op.ref, key);
        emit('artifacts', 'prefect.artifact.created', key ?? self, created, {
          id: self,
          key,
          type: opt(op, 'type'),
          description: opt(op, 'description'),
          data: opt(op, 'data'),
          metadata_: opt(op, 'metadata_'),
          flow_run_id: id(op.flow_run),
          task_run_id: id(op.task_run),
          created,
          updated: created,
        });
        break;
      }
      case 'artifact_update':
      case 'artifact_delete': {
        const at = op.at as string;
        const key = artifactKeys.get(op.ref) ?? null;
        const data: Record<string, unknown> = { id: self, updated: at };
        if (key !== null) data.key = key;
        if (op.op === 'artifact_update') {
          for (const field of ['data', 'description', 'metadata_']) if (field in op) data[field] = op[field];
        }
        emit('artifacts', op.op === 'artifact_update' ? 'prefect.artifact.updated' : 'prefect.artifact.deleted', key ?? self, at, data);
        break;
      }
      default:
        throw new Error(`unknown scenario operation ${op.op}`);
    }
  }
  return events;
}

/** Both CloudEvents Kafka bindings (docs/events.md): structured JSON value, or ce_ headers with the data as value. */
export function encodeEvent(event: ProducedEvent, binding: 'structured' | 'binary'): { key: string; value: string; headers: Record<string, string> } {
  const ce = event.cloudEvent;
  if (binding === 'structured') {
    return { key: event.key, value: losslessStringify(ce)!, headers: { 'content-type': 'application/cloudevents+json' } };
  }
  return {
    key: event.key,
    value: losslessStringify(ce.data)!,
    headers: {
      ce_specversion: ce.specversion,
      ce_id: ce.id,
      ce_type: ce.type,
      ce_source: ce.source,
      ce_time: ce.time,
      ce_subject: ce.subject,
      'content-type': 'application/json',
    },
  };
}

function substitute(value: unknown, refs: Map<string, string>): unknown {
  if (typeof value === 'string' && value.startsWith('$ref:')) return refs.get(value.slice(5)) ?? missingRef(value);
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs));
  if (isLosslessNumber(value)) return value;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, refs)]));
  return value;
}

function missingRef(value: string): never {
  throw new Error(`scenario refers to unknown ${value}`);
}

export function requestPath(path: string, refs: Map<string, string>): string {
  return path
    .replace(/\{ref:([^}]+)\}/g, (_, ref: string) => refs.get(ref) ?? missingRef(`$ref:${ref}`))
    .replace(/\{key:([^}]+)\}/g, (_, key: string) => encodeURIComponent(key));
}

export function requestBody(body: unknown, refs: Map<string, string>): string | undefined {
  return body === undefined ? undefined : losslessStringify(substitute(body, refs));
}

/** `{ref:x}` in an expected text becomes that ref's UUID. */
function substituteText(text: string, refs: Map<string, string>): string {
  return text.replace(/\{ref:([^}]+)\}/g, (_, ref: string) => refs.get(ref) ?? missingRef(`$ref:${ref}`));
}

/** Sends one scenario request to a server at `base` and checks the answer; returns the mismatches, each naming the request. */
export async function runScenarioRequest(base: string, request: ScenarioRequest, index: number, refs: Map<string, string>): Promise<string[]> {
  const body = request.raw_body ?? requestBody(request.body, refs);
  const response = await fetch(base + requestPath(request.path, refs), {
    method: request.method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
    // The server's own answer: a 307 is checked, not followed.
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return checkExpectation(request, response.status, parsed, refs, { text, headers: response.headers }).map(
    (problem) => `request ${index} ${request.method} ${request.path} ${body ?? ''}: ${problem}`,
  );
}

function sameValue(actual: unknown, expected: unknown): boolean {
  if (isLosslessNumber(expected)) return typeof actual === 'number' && actual === expected.valueOf();
  if (typeof expected === 'number') return typeof actual === 'number' && actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => sameValue(actual[i], e));
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(a).length && keys.every((k) => sameValue(a[k], (expected as Record<string, unknown>)[k]));
  }
  return actual === expected;
}

/** Checks one response against a scenario's `expect`; returns the list of mismatches (empty when it conforms). */
export function checkExpectation(
  request: ScenarioRequest,
  status: number,
  body: unknown,
  refs: Map<string, string>,
  raw?: { text: string; headers: Headers },
): string[] {
  const problems: string[] = [];
  const expect = substitute(request.expect, refs) as Record<string, unknown>;
  const byId = new Map([...refs.entries()].map(([ref, uuid]) => [uuid, ref]));
  const num = (v: unknown) => (isLosslessNumber(v) ? v.valueOf() : v);
  if (status !== num(expect.status)) problems.push(`status ${status}, expected ${String(num(expect.status))}: ${JSON.stringify(body).slice(0, 500)}`);
  if (problems.length > 0) return problems;
  if ('body_text' in request.expect) {
    // Exact response text (number spellings, member order, error lists); {ref:x} is that ref's UUID.
    const wanted = substituteText(String(request.expect.body_text), refs);
    if (!raw) problems.push('body_text: no response text to compare');
    else if (raw.text !== wanted) problems.push(`body_text: got ${JSON.stringify(raw.text)}, expected ${JSON.stringify(wanted)}`);
  }
  if ('headers' in request.expect) {
    for (const [name, value] of Object.entries(request.expect.headers as Record<string, string | null>)) {
      const got = raw?.headers.get(name) ?? null;
      if (got !== value) problems.push(`headers.${name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
    }
  }
  const list = Array.isArray(body) ? (body as Record<string, unknown>[]) : undefined;
  if ('count' in expect) {
    const count = list ? list.length : body;
    if (count !== num(expect.count)) problems.push(`count ${JSON.stringify(count)}, expected ${String(num(expect.count))}`);
  }
  const refsOf = (field: 'id' | 'latest_id') => (list ?? []).map((row) => byId.get(String(row[field])) ?? `<unknown ${String(row[field])}>`);
  const compare = (name: string, field: 'id' | 'latest_id', ordered: boolean) => {
    if (!(name in expect)) return;
    const wanted = (expect[name] as string[]).map((uuid) => byId.get(uuid) ?? uuid);
    const got = refsOf(field);
    const a = ordered ? got : [...got].sort();
    const b = ordered ? wanted : [...wanted].sort();
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(wanted)}`);
  };
  // `expect` went through substitute(), so the listed refs are UUIDs now only where they were "$ref:"; map plain refs.
  const plainRefs = (name: string) => {
    if (name in expect) expect[name] = (request.expect[name] as string[]).map((ref) => refs.get(ref) ?? ref);
  };
  ['ids_in_order', 'ids_any_order', 'latest_ids_in_order', 'latest_ids_any_order'].forEach(plainRefs);
  compare('ids_in_order', 'id', true);
  compare('ids_any_order', 'id', false);
  compare('latest_ids_in_order', 'latest_id', true);
  compare('latest_ids_any_order', 'latest_id', false);
  if ('fields' in expect) {
    for (const [ref, fields] of Object.entries(expect.fields as Record<string, Record<string, unknown>>)) {
      const uuid = refs.get(ref);
      const row = list
        ? list.find((r) => r.latest_id === uuid || (!('latest_id' in r) && r.id === uuid))
        : (body as Record<string, unknown>);
      if (!row) {
        problems.push(`fields: no element for ${ref}`);
        continue;
      }
      for (const [field, value] of Object.entries(fields)) {
        if (!sameValue(row[field], value)) problems.push(`fields.${ref}.${field}: got ${JSON.stringify(row[field])}, expected ${losslessStringify(value)}`);
      }
    }
  }
  return problems;
}
