import { z } from 'zod';
import { canonicalJson, JsonNumber, JsonObject, JsonValue } from './json';
import { ARTIFACT_KEY_PATTERN, normaliseTimestamp, normaliseUuid, truncateMetadataValue } from './scalars';
import type { EventType } from './topics';

// Schemas of the `data` of each event type (docs/events.md). Unknown fields are
// stripped. Outputs are store-ready: UUIDs lowercase hyphenated, datetimes
// canonical UTC strings with microseconds, `data`/`metadata_` canonical JSON text.

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

// Checks rewrite the value in place instead of transform pipes, and defaults are
// filled once per object: zod pipes cost ~1 µs per field, and this is the ingest hot path.

type Payload = z.core.ParsePayload<unknown>;

function issue(ctx: Payload, message: string, path?: PropertyKey[]): void {
  ctx.issues.push(path ? { code: 'custom', message, input: ctx.value, path } : { code: 'custom', message, input: ctx.value });
}

function normalising(normalise: (s: string) => string | null, describe: (s: string) => string) {
  return z.string().check((ctx) => {
    const value = normalise(ctx.value);
    if (value === null) issue(ctx, describe(ctx.value));
    else ctx.value = value;
  });
}

// PostgreSQL refuses U+0000 in text and jsonb; letting one through would fail the whole batch.
const text = z.string().refine((s) => !s.includes('\0'), 'must not contain NUL characters');

export const uuidSchema = normalising(normaliseUuid, (s) => `invalid uuid ${clip(s)}`);

export const timestampSchema = normalising(normaliseTimestamp, (s) => `invalid datetime ${clip(s)} (RFC 3339 with an offset expected)`);

export const artifactKeySchema = z
  .string()
  .regex(ARTIFACT_KEY_PATTERN, 'Artifact key must only contain lowercase letters, numbers, and dashes.');

const tags = z.array(text).nullish();

/** Any JSON (a parsed lossless tree or plain values) → canonical text; JSON null → null (SQL NULL). Wrap in .optional() inside objects. */
export const jsonDataSchema = z.unknown().check((ctx) => {
  const json = canonicalJson(ctx.value);
  ctx.value = json === 'null' ? null : json;
}) as unknown as z.ZodType<string | null>;

/** null, or an object of string → string (a Map from the lossless parser, or a plain object) → canonical text with long values cut. */
export const metadataSchema = z.unknown().check((ctx) => {
  const v = ctx.value;
  if (v === null) return;
  // A lossless JsonNumber is an object too: it is not an object of strings.
  const entries = v instanceof Map ? [...(v as Map<string, unknown>)] : typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber) ? Object.entries(v) : null;
  if (entries === null) return issue(ctx, 'must be an object of string values, or null');
  const out = new Map<string, string>();
  for (const [key, value] of entries) {
    if (typeof value !== 'string') return issue(ctx, 'metadata value must be a string', [key]);
    out.set(key, truncateMetadataValue(value));
  }
  ctx.value = canonicalJson(out);
}) as unknown as z.ZodType<string | null>;

const int32 = z.number().int('must be an integer').min(-2147483648).max(2147483647);

/** Copies `keys`, absent ones as null (run payloads: every field but the required ones is optional and nullable). */
function withNulls(p: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = p[k];
    out[k] = v === undefined ? null : v;
  }
  return out;
}

export interface ArtifactCreated {
  id: string;
  key: string | null;
  type: string | null;
  description: string | null;
  /** Canonical JSON text, or null. */
  data: string | null;
  /** Canonical JSON text of the object, or null. */
  metadata_: string | null;
  flow_run_id: string | null;
  task_run_id: string | null;
  created: string;
  updated: string;
}

/** `undefined` means the field was absent (unchanged); `null` means set to null. */
export interface ArtifactUpdated {
  id: string;
  key: string | null;
  updated: string;
  data?: string | null;
  description?: string | null;
  metadata_?: string | null;
}

export interface ArtifactDeleted {
  id: string;
  key: string | null;
  /** Not in the contract; when absent the projection uses the CloudEvent `time`. */
  updated: string | null;
}

export interface FlowUpserted {
  id: string;
  created: string | null;
  updated: string;
  name: string;
  tags: string[];
}

export interface DeploymentUpserted {
  id: string;
  created: string | null;
  updated: string;
  flow_id: string | null;
  name: string;
  tags: string[];
  work_queue_name: string | null;
  paused: boolean;
  concurrency_limit: number | null;
}

export interface CreatedBy {
  id: string | null;
  type: string | null;
  display_value: string | null;
}

export interface FlowRunUpserted {
  id: string;
  created: string | null;
  updated: string;
  flow_id: string | null;
  deployment_id: string | null;
  name: string;
  tags: string[];
  state_type: string | null;
  state_name: string | null;
  flow_version: string | null;
  work_queue_name: string | null;
  parent_task_run_id: string | null;
  idempotency_key: string | null;
  start_time: string | null;
  end_time: string | null;
  expected_start_time: string | null;
  next_scheduled_start_time: string | null;
  created_by: CreatedBy | null;
}

export interface TaskRunUpserted {
  id: string;
  created: string | null;
  updated: string;
  flow_run_id: string | null;
  name: string;
  tags: string[];
  task_key: string | null;
  dynamic_key: string | null;
  state_type: string | null;
  state_name: string | null;
  start_time: string | null;
  end_time: string | null;
  expected_start_time: string | null;
}

export interface EntityDeleted {
  id: string;
  updated: string;
}

export interface PayloadTypes {
  'prefect.artifact.created': ArtifactCreated;
  'prefect.artifact.updated': ArtifactUpdated;
  'prefect.artifact.deleted': ArtifactDeleted;
  'prefect.flow.upserted': FlowUpserted;
  'prefect.flow.deleted': EntityDeleted;
  'prefect.deployment.upserted': DeploymentUpserted;
  'prefect.deployment.deleted': EntityDeleted;
  'prefect.flow-run.upserted': FlowRunUpserted;
  'prefect.flow-run.deleted': EntityDeleted;
  'prefect.task-run.upserted': TaskRunUpserted;
  'prefect.task-run.deleted': EntityDeleted;
}

const artifactCreatedShape = {
  id: uuidSchema,
  key: artifactKeySchema.nullish(),
  type: text.nullish(),
  description: text.nullish(),
  data: jsonDataSchema.optional(),
  metadata_: metadataSchema.optional(),
  flow_run_id: uuidSchema.nullish(),
  task_run_id: uuidSchema.nullish(),
  created: timestampSchema,
  updated: timestampSchema.optional(),
};
const ARTIFACT_CREATED_KEYS = Object.keys(artifactCreatedShape);

const artifactUpdatedShape = {
  id: uuidSchema,
  key: artifactKeySchema.nullish(),
  updated: timestampSchema,
  data: jsonDataSchema.optional(),
  description: text.nullable().optional(),
  metadata_: metadataSchema.optional(),
};

const artifactDeletedShape = { id: uuidSchema, key: artifactKeySchema.nullish(), updated: timestampSchema.nullish() };

const flowShape = { id: uuidSchema, created: timestampSchema.nullish(), updated: timestampSchema, name: text, tags };

const deploymentShape = {
  id: uuidSchema,
  created: timestampSchema.nullish(),
  updated: timestampSchema,
  flow_id: uuidSchema.nullish(),
  name: text,
  tags,
  work_queue_name: text.nullish(),
  paused: z.boolean().nullish(),
  concurrency_limit: int32.nullish(),
};

const state = z.object({ type: text.nullish(), name: text.nullish() }).nullish();

const createdBy = z.object({ id: uuidSchema.nullish(), type: text.nullish(), display_value: text.nullish() }).nullish();

const flowRunShape = {
  id: uuidSchema,
  created: timestampSchema.nullish(),
  updated: timestampSchema,
  flow_id: uuidSchema.nullish(),
  deployment_id: uuidSchema.nullish(),
  name: text,
  tags,
  state_type: text.nullish(),
  state_name: text.nullish(),
  state,
  flow_version: text.nullish(),
  work_queue_name: text.nullish(),
  parent_task_run_id: uuidSchema.nullish(),
  idempotency_key: text.nullish(),
  start_time: timestampSchema.nullish(),
  end_time: timestampSchema.nullish(),
  expected_start_time: timestampSchema.nullish(),
  next_scheduled_start_time: timestampSchema.nullish(),
  created_by: createdBy,
};

const taskRunShape = {
  id: uuidSchema,
  created: timestampSchema.nullish(),
  updated: timestampSchema,
  flow_run_id: uuidSchema.nullish(),
  name: text,
  tags,
  task_key: text.nullish(),
  dynamic_key: text.nullish(),
  state_type: text.nullish(),
  state_name: text.nullish(),
  state,
  start_time: timestampSchema.nullish(),
  end_time: timestampSchema.nullish(),
  expected_start_time: timestampSchema.nullish(),
};

const deletedShape = { id: uuidSchema, updated: timestampSchema };

type Shape = Record<string, unknown>;
type StateInput = { type?: string | null; name?: string | null } | null | undefined;

function runPayload(keys: readonly string[]) {
  return (p: Shape) => {
    const out = withNulls(p, keys);
    out.tags = p.tags ?? [];
    if ('paused' in out) out.paused = p.paused ?? false;
    if ('state' in out) {
      // Prefect's run objects carry both `state_type`/`state_name` and a `state` object; either is accepted.
      const st = p.state as StateInput;
      out.state_type = p.state_type ?? st?.type ?? null;
      out.state_name = p.state_name ?? st?.name ?? null;
      delete out.state;
    }
    if ('created_by' in out) {
      const by = p.created_by as { id?: string | null; type?: string | null; display_value?: string | null } | null | undefined;
      out.created_by = by ? { id: by.id ?? null, type: by.type ?? null, display_value: by.display_value ?? null } : null;
    }
    return out;
  };
}

function runSchema<T>(shape: Record<string, z.ZodType>): z.ZodType<T> {
  return z.object(shape).transform(runPayload(Object.keys(shape))) as unknown as z.ZodType<T>;
}

// The shaping after validation, shared by the zod schemas and the fast path below.
const artifactCreated = (p: Shape): ArtifactCreated => {
  const out = withNulls(p, ARTIFACT_CREATED_KEYS) as unknown as ArtifactCreated;
  out.updated = (p.updated ?? p.created) as string;
  return out;
};
const artifactUpdated = (p: Shape): ArtifactUpdated => ({ ...p, key: p.key ?? null }) as ArtifactUpdated;
const artifactDeleted = (p: Shape): ArtifactDeleted => ({ id: p.id, key: p.key ?? null, updated: p.updated ?? null }) as ArtifactDeleted;

export const payloadSchemas: { [T in EventType]: z.ZodType<PayloadTypes[T]> } = {
  'prefect.artifact.created': z.object(artifactCreatedShape).transform(artifactCreated),
  'prefect.artifact.updated': z.object(artifactUpdatedShape).transform(artifactUpdated),
  'prefect.artifact.deleted': z.object(artifactDeletedShape).transform(artifactDeleted),
  'prefect.flow.upserted': runSchema<FlowUpserted>(flowShape),
  'prefect.flow.deleted': z.object(deletedShape),
  'prefect.deployment.upserted': runSchema<DeploymentUpserted>(deploymentShape),
  'prefect.deployment.deleted': z.object(deletedShape),
  'prefect.flow-run.upserted': runSchema<FlowRunUpserted>(flowRunShape),
  'prefect.flow-run.deleted': z.object(deletedShape),
  'prefect.task-run.upserted': runSchema<TaskRunUpserted>(taskRunShape),
  'prefect.task-run.deleted': z.object(deletedShape),
};

/** Top-level payload fields each type reads; the decoder converts only these from the lossless tree. */
export const payloadFields: { [T in EventType]: readonly string[] } = {
  'prefect.artifact.created': Object.keys(artifactCreatedShape),
  'prefect.artifact.updated': Object.keys(artifactUpdatedShape),
  'prefect.artifact.deleted': Object.keys(artifactDeletedShape),
  'prefect.flow.upserted': Object.keys(flowShape),
  'prefect.flow.deleted': Object.keys(deletedShape),
  'prefect.deployment.upserted': Object.keys(deploymentShape),
  'prefect.deployment.deleted': Object.keys(deletedShape),
  'prefect.flow-run.upserted': Object.keys(flowRunShape),
  'prefect.flow-run.deleted': Object.keys(deletedShape),
  'prefect.task-run.upserted': Object.keys(taskRunShape),
  'prefect.task-run.deleted': Object.keys(deletedShape),
};

/** Fields validated on the lossless tree itself (numbers and key order must survive). */
export const LOSSLESS_FIELDS: ReadonlySet<string> = new Set(['data', 'metadata_']);

/** A zod error map giving "required" for a missing field instead of "expected string, received undefined". */
export function payloadErrorMap(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined;
}

// Fast path (the ingest hot path): the same checks written by hand over the lossless
// tree, for payloads that pass. Anything it does not accept goes to the zod schema,
// which decides and words the failure; payloads.spec.ts checks both agree.

const BAD = Symbol('bad');
type Check = (v: JsonValue) => unknown;
/** `nullish`: null passes as null; `optional`: absent is left out; otherwise the check sees null. */
interface Field {
  check: Check;
  nullish: boolean;
  optional: boolean;
}

const uuidCheck: Check = (v) => (typeof v === 'string' ? (normaliseUuid(v) ?? BAD) : BAD);
const timeCheck: Check = (v) => (typeof v === 'string' ? (normaliseTimestamp(v) ?? BAD) : BAD);
const textCheck: Check = (v) => (typeof v === 'string' && !v.includes('\0') ? v : BAD);
const keyCheck: Check = (v) => (typeof v === 'string' && ARTIFACT_KEY_PATTERN.test(v) ? v : BAD);
const dataCheck: Check = (v) => {
  const json = canonicalJson(v);
  return json === 'null' ? null : json;
};
const metadataCheck: Check = (v) => {
  if (v === null) return null;
  if (!(v instanceof Map)) return BAD;
  const out = new Map<string, string>();
  for (const [key, value] of v) {
    if (typeof value !== 'string') return BAD;
    out.set(key, truncateMetadataValue(value));
  }
  return canonicalJson(out);
};
const tagsCheck: Check = (v) => (Array.isArray(v) && v.every((t) => textCheck(t) !== BAD) ? v.slice() : BAD);
const boolCheck: Check = (v) => (v === true || v === false ? v : BAD);
const int32Check: Check = (v) => {
  if (!(v instanceof JsonNumber)) return BAD;
  const n = Number(v.raw);
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : BAD;
};

const required = (check: Check): Field => ({ check, nullish: false, optional: false });
const nullish = (check: Check): Field => ({ check, nullish: true, optional: true });
const optional = (check: Check): Field => ({ check, nullish: false, optional: true });
const objectCheck = (fields: Record<string, Field>): Check => (v) => (v instanceof Map ? (fastObject(fields, v) ?? BAD) : BAD);

const stateFields = { type: nullish(textCheck), name: nullish(textCheck) };
const createdByFields = { id: nullish(uuidCheck), type: nullish(textCheck), display_value: nullish(textCheck) };

const FAST_FIELDS: { [T in EventType]: Record<string, Field> } = {
  'prefect.artifact.created': {
    id: required(uuidCheck),
    key: nullish(keyCheck),
    type: nullish(textCheck),
    description: nullish(textCheck),
    data: optional(dataCheck),
    metadata_: optional(metadataCheck),
    flow_run_id: nullish(uuidCheck),
    task_run_id: nullish(uuidCheck),
    created: required(timeCheck),
    updated: optional(timeCheck),
  },
  'prefect.artifact.updated': {
    id: required(uuidCheck),
    key: nullish(keyCheck),
    updated: required(timeCheck),
    data: optional(dataCheck),
    description: nullish(textCheck),
    metadata_: optional(metadataCheck),
  },
  'prefect.artifact.deleted': { id: required(uuidCheck), key: nullish(keyCheck), updated: nullish(timeCheck) },
  'prefect.flow.upserted': { id: required(uuidCheck), created: nullish(timeCheck), updated: required(timeCheck), name: required(textCheck), tags: nullish(tagsCheck) },
  'prefect.flow.deleted': { id: required(uuidCheck), updated: required(timeCheck) },
  'prefect.deployment.upserted': {
    id: required(uuidCheck),
    created: nullish(timeCheck),
    updated: required(timeCheck),
    flow_id: nullish(uuidCheck),
    name: required(textCheck),
    tags: nullish(tagsCheck),
    work_queue_name: nullish(textCheck),
    paused: nullish(boolCheck),
    concurrency_limit: nullish(int32Check),
  },
  'prefect.deployment.deleted': { id: required(uuidCheck), updated: required(timeCheck) },
  'prefect.flow-run.upserted': {
    id: required(uuidCheck),
    created: nullish(timeCheck),
    updated: required(timeCheck),
    flow_id: nullish(uuidCheck),
    deployment_id: nullish(uuidCheck),
    name: required(textCheck),
    tags: nullish(tagsCheck),
    state_type: nullish(textCheck),
    state_name: nullish(textCheck),
    state: nullish(objectCheck(stateFields)),
    flow_version: nullish(textCheck),
    work_queue_name: nullish(textCheck),
    parent_task_run_id: nullish(uuidCheck),
    idempotency_key: nullish(textCheck),
    start_time: nullish(timeCheck),
    end_time: nullish(timeCheck),
    expected_start_time: nullish(timeCheck),
    next_scheduled_start_time: nullish(timeCheck),
    created_by: nullish(objectCheck(createdByFields)),
  },
  'prefect.flow-run.deleted': { id: required(uuidCheck), updated: required(timeCheck) },
  'prefect.task-run.upserted': {
    id: required(uuidCheck),
    created: nullish(timeCheck),
    updated: required(timeCheck),
    flow_run_id: nullish(uuidCheck),
    name: required(textCheck),
    tags: nullish(tagsCheck),
    task_key: nullish(textCheck),
    dynamic_key: nullish(textCheck),
    state_type: nullish(textCheck),
    state_name: nullish(textCheck),
    state: nullish(objectCheck(stateFields)),
    start_time: nullish(timeCheck),
    end_time: nullish(timeCheck),
    expected_start_time: nullish(timeCheck),
  },
  'prefect.task-run.deleted': { id: required(uuidCheck), updated: required(timeCheck) },
};

const identity = (p: Shape) => p;
const FAST_SHAPING: { [T in EventType]: (p: Shape) => unknown } = {
  'prefect.artifact.created': artifactCreated,
  'prefect.artifact.updated': artifactUpdated,
  'prefect.artifact.deleted': artifactDeleted,
  'prefect.flow.upserted': runPayload(Object.keys(flowShape)),
  'prefect.flow.deleted': identity,
  'prefect.deployment.upserted': runPayload(Object.keys(deploymentShape)),
  'prefect.deployment.deleted': identity,
  'prefect.flow-run.upserted': runPayload(Object.keys(flowRunShape)),
  'prefect.flow-run.deleted': identity,
  'prefect.task-run.upserted': runPayload(Object.keys(taskRunShape)),
  'prefect.task-run.deleted': identity,
};

/** The fields of `fields` read from `data` in shape order (as zod outputs them), or undefined if any check fails. */
function fastObject(fields: Record<string, Field>, data: JsonObject): Shape | undefined {
  const out: Shape = {};
  for (const name in fields) {
    const field = fields[name]!;
    const v = data.get(name);
    if (v === undefined) {
      if (!field.optional) return undefined;
      continue;
    }
    if (v === null && field.nullish) {
      out[name] = null;
      continue;
    }
    const checked = field.check(v);
    if (checked === BAD) return undefined;
    out[name] = checked;
  }
  return out;
}

/** The payload of a valid `data` object, exactly as payloadSchemas[type] would return it; undefined when it is not plainly valid (ask the schema). */
export function fastPayload<T extends EventType>(type: T, data: JsonObject): PayloadTypes[T] | undefined {
  const p = fastObject(FAST_FIELDS[type], data);
  return p === undefined ? undefined : (FAST_SHAPING[type](p) as PayloadTypes[T]);
}

/** For tests: the field names the fast path reads, per type. */
export const fastPayloadFields = (type: EventType): string[] => Object.keys(FAST_FIELDS[type]);
