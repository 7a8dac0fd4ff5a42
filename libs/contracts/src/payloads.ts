import { z } from 'zod';
import { canonicalJson, JsonNumber, JsonObject, JsonValue, toPlain } from './json';
import { ARTIFACT_KEY_PATTERN, normaliseTimestamp, normaliseUuid, truncateMetadataValue } from './scalars';
import type { EventType } from './topics';

// The `data` of each event type (docs/events.md), declared once in EVENTS below. From
// each declaration follow: the zod schema (it decides and words every failure), the
// decoder's fast path, the decoded type (PayloadTypes), the producer's wire type
// (WirePayloads) and each field's value kind, which the projections map to columns.
// Unknown fields are stripped. Outputs are store-ready: UUIDs lowercase hyphenated,
// datetimes canonical UTC strings with microseconds, `data`/`metadata_` canonical JSON text.

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
const textSchema = z.string().refine((s) => !s.includes('\0'), 'must not contain NUL characters');

export const uuidSchema = normalising(normaliseUuid, (s) => `invalid uuid ${clip(s)}`);

export const timestampSchema = normalising(normaliseTimestamp, (s) => `invalid datetime ${clip(s)} (RFC 3339 with an offset expected)`);

export const artifactKeySchema = z
  .string()
  .regex(ARTIFACT_KEY_PATTERN, 'Artifact key must only contain lowercase letters, numbers, and dashes.');

/** Any JSON (a parsed lossless tree or plain values) → canonical text; JSON null → null (SQL NULL). */
export const jsonDataSchema = z.unknown().check((ctx) => {
  const json = canonicalJson(ctx.value);
  ctx.value = json === 'null' ? null : json;
}) as unknown as z.ZodType<string | null, unknown>;

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
}) as unknown as z.ZodType<string | null, Record<string, unknown> | null>;

const int32Schema = z.number().int('must be an integer').min(-2147483648).max(2147483647);

// Value kinds: each pairs its zod schema with the same check written by hand over
// the lossless tree (the fast path: it only accepts, anything else goes to zod;
// payloads.spec.ts checks both agree).

const BAD = Symbol('bad');
type FastCheck = (v: JsonValue) => unknown;

/** What a decoded field holds; the projections map it to a column type. */
export type ValueKind = 'uuid' | 'timestamp' | 'text' | 'tags' | 'boolean' | 'int32' | 'json' | 'object';

interface Kind<Out, In> {
  name: ValueKind;
  schema: z.ZodType<Out, In>;
  fast: FastCheck;
  /** Validated on the lossless tree itself (numbers and key order must survive). */
  lossless?: boolean;
}

const uuid: Kind<string, string> = {
  name: 'uuid',
  schema: uuidSchema,
  fast: (v) => (typeof v === 'string' ? (normaliseUuid(v) ?? BAD) : BAD),
};
const timestamp: Kind<string, string> = {
  name: 'timestamp',
  schema: timestampSchema,
  fast: (v) => (typeof v === 'string' ? (normaliseTimestamp(v) ?? BAD) : BAD),
};
const textCheck: FastCheck = (v) => (typeof v === 'string' && !v.includes('\0') ? v : BAD);
const text: Kind<string, string> = { name: 'text', schema: textSchema, fast: textCheck };
const artifactKey: Kind<string, string> = {
  name: 'text',
  schema: artifactKeySchema,
  fast: (v) => (typeof v === 'string' && ARTIFACT_KEY_PATTERN.test(v) ? v : BAD),
};
const tags: Kind<string[], string[]> = {
  name: 'tags',
  schema: z.array(textSchema),
  fast: (v) => (Array.isArray(v) && v.every((t) => textCheck(t) !== BAD) ? v.slice() : BAD),
};
const boolean: Kind<boolean, boolean> = { name: 'boolean', schema: z.boolean(), fast: (v) => (v === true || v === false ? v : BAD) };
const int32: Kind<number, number> = {
  name: 'int32',
  schema: int32Schema,
  fast: (v) => {
    if (!(v instanceof JsonNumber)) return BAD;
    const n = Number(v.raw);
    return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : BAD;
  },
};
const json: Kind<string | null, unknown> = {
  name: 'json',
  schema: jsonDataSchema,
  lossless: true,
  fast: (v) => {
    const text = canonicalJson(v);
    return text === 'null' ? null : text;
  },
};
const metadata: Kind<string | null, Record<string, unknown> | null> = {
  name: 'json',
  schema: metadataSchema,
  lossless: true,
  fast: (v) => {
    if (v === null) return null;
    if (!(v instanceof Map)) return BAD;
    const out = new Map<string, string>();
    for (const [key, value] of v) {
      if (typeof value !== 'string') return BAD;
      out.set(key, truncateMetadataValue(value));
    }
    return canonicalJson(out);
  },
};

// Fields: how a kind is accepted (`required`, `optional`: absent is fine, null goes to
// the check; `nullish`: absent or null is fine) and what the payload holds when the
// value is absent or null: `fill(p)` of the validated fields, or null, or nothing (`kept`).

type Checked = Record<string, unknown>;

interface Field<In, Out, Required extends boolean, Output extends 'always' | 'maybe' | 'never'> {
  kind: Kind<unknown, unknown>;
  accepts: 'required' | 'optional' | 'nullish';
  fill: ((p: Checked) => unknown) | null;
  output: boolean;
  /** Type-level only. */
  types?: { in: In; out: Out; required: Required; output: Output };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = Field<any, any, boolean, 'always' | 'maybe' | 'never'>;
type Fields = Record<string, AnyField>;

const field = <In, Out, R extends boolean, O extends 'always' | 'maybe' | 'never'>(
  kind: Kind<unknown, unknown>,
  accepts: 'required' | 'optional' | 'nullish',
  fill: ((p: Checked) => unknown) | null,
  output = true,
): Field<In, Out, R, O> => ({ kind, accepts, fill, output });

const asAny = <O, I>(kind: Kind<O, I>) => kind as unknown as Kind<unknown, unknown>;
const required = <O, I>(kind: Kind<O, I>) => field<I, O, true, 'always'>(asAny(kind), 'required', null);
function nullish<O, I>(kind: Kind<O, I>): Field<I | null, O | null, false, 'always'>;
function nullish<O, I, F>(kind: Kind<O, I>, fill: (p: Checked) => F): Field<I | null, O | F, false, 'always'>;
function nullish<O, I>(kind: Kind<O, I>, fill: (p: Checked) => unknown = () => null) {
  return field(asAny(kind), 'nullish', fill);
}
const optional = <O, I, F>(kind: Kind<O, I>, fill: (p: Checked) => F) => field<I, O | F, false, 'always'>(asAny(kind), 'optional', fill);
/** Absent stays absent (an update leaves the field unchanged); null is null. */
const kept = <O, I>(kind: Kind<O, I>) => field<I | null, O | null, false, 'maybe'>(asAny(kind), 'nullish', null);
/** Validated and read by other fields' fills, not part of the payload. */
const inputOnly = <I, O, R extends boolean>(f: Field<I, O, R, 'always'>) => field<I, O, R, 'never'>(f.kind, f.accepts, f.fill, false);

type InOf<F> = F extends Field<infer I, unknown, boolean, 'always' | 'maybe' | 'never'> ? I : never;
type OutOf<F> = F extends Field<unknown, infer O, boolean, 'always' | 'maybe' | 'never'> ? O : never;
type Flat<T> = { [K in keyof T]: T[K] };
/** The decoded payload of fields F. */
export type PayloadOf<F extends Fields> = Flat<
  { [K in keyof F as F[K] extends Field<unknown, unknown, boolean, 'always'> ? K : never]: OutOf<F[K]> } & {
    [K in keyof F as F[K] extends Field<unknown, unknown, boolean, 'maybe'> ? K : never]?: OutOf<F[K]>;
  }
>;
/** What a producer sends for fields F (extra fields are allowed on the wire). */
export type WireOf<F extends Fields> = Flat<
  { [K in keyof F as F[K] extends Field<unknown, unknown, true, 'always' | 'maybe' | 'never'> ? K : never]: InOf<F[K]> } & {
    [K in keyof F as F[K] extends Field<unknown, unknown, true, 'always' | 'maybe' | 'never'> ? never : K]?: InOf<F[K]>;
  }
>;

interface Declaration<F extends Fields> {
  /** The top-level fields read, in declaration order. */
  fields: readonly string[];
  /** The fields of the decoded payload and their kinds, in order. */
  kinds: readonly (readonly [string, ValueKind])[];
  schema: z.ZodType<PayloadOf<F>, WireOf<F>>;
  /** The payload of a plainly valid lossless object, undefined otherwise. */
  fast(data: JsonObject): PayloadOf<F> | undefined;
  /** The schema's input: the fields read, lossless where the kind wants it, plain values otherwise. */
  plain(data: JsonObject): Checked;
  /** The payload of already validated values: absent and null fields filled as decoding fills them. */
  complete(p: Checked): PayloadOf<F>;
}

function declare<F extends Fields>(fields: F): Declaration<F> {
  const entries = Object.entries(fields);
  const shape: Record<string, z.ZodType> = {};
  for (const [name, f] of entries) {
    const schema = f.kind.schema;
    shape[name] = f.accepts === 'required' ? schema : f.accepts === 'optional' ? schema.optional() : schema.nullish();
  }
  // Parallel arrays keep the per-event loops below free of destructuring and property chains.
  const names = entries.map(([name]) => name);
  const checks = entries.map(([, f]) => f.kind.fast);
  const accepts = entries.map(([, f]) => f.accepts);
  const outputs = entries.filter(([, f]) => f.output);
  const outNames = outputs.map(([name]) => name);
  const fills = outputs.map(([, f]) => f.fill);
  const complete = (p: Checked) => {
    const out: Checked = {};
    for (let i = 0; i < outNames.length; i++) {
      const name = outNames[i]!;
      const v = p[name];
      if (v !== undefined && v !== null) out[name] = v;
      else {
        const fill = fills[i]!;
        if (fill !== null) out[name] = fill(p);
        else if (v === null) out[name] = null;
      }
    }
    return out as PayloadOf<F>;
  };
  return {
    fields: names,
    kinds: outputs.map(([name, f]) => [name, f.kind.name] as const),
    schema: z.object(shape).transform(complete) as unknown as z.ZodType<PayloadOf<F>, WireOf<F>>,
    fast(data) {
      const p: Checked = {};
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const v = data.get(name);
        if (v === undefined) {
          if (accepts[i] === 'required') return undefined;
        } else if (v === null && accepts[i] === 'nullish') {
          p[name] = null;
        } else {
          const checked = checks[i]!(v);
          if (checked === BAD) return undefined;
          p[name] = checked;
        }
      }
      return complete(p);
    },
    plain(data) {
      const plain = Object.create(null) as Checked;
      for (const [name, f] of entries) {
        const v = data.get(name);
        if (v !== undefined) plain[name] = f.kind.lossless ? v : toPlain(v);
      }
      return plain;
    },
    complete,
  };
}

function object<F extends Fields>(fields: F): Kind<PayloadOf<F>, WireOf<F> | null> {
  const d = declare(fields);
  return { name: 'object', schema: d.schema, fast: (v) => (v instanceof Map ? (d.fast(v) ?? BAD) : BAD) };
}

const id = required(uuid);
const updated = required(timestamp);
const created = nullish(timestamp);
const tagList = nullish(tags, () => [] as string[]);
// Prefect's run objects carry both `state_type`/`state_name` and a `state` object; either is accepted.
const state = inputOnly(nullish(object({ type: nullish(text), name: nullish(text) })));
const stateOf = (p: Checked) => p.state as { type: string | null; name: string | null } | null | undefined;
const stateType = nullish(text, (p) => stateOf(p)?.type ?? null);
const stateName = nullish(text, (p) => stateOf(p)?.name ?? null);
const deleted = declare({ id, updated });

const EVENTS = {
  'prefect.artifact.created': declare({
    id,
    key: nullish(artifactKey),
    type: nullish(text),
    description: nullish(text),
    data: nullish(json),
    metadata_: nullish(metadata),
    flow_run_id: nullish(uuid),
    task_run_id: nullish(uuid),
    created: required(timestamp),
    updated: optional(timestamp, (p) => p.created as string),
  }),
  'prefect.artifact.updated': declare({ id, key: nullish(artifactKey), updated, data: kept(json), description: kept(text), metadata_: kept(metadata) }),
  /** `updated` is not in the contract; when absent the projection uses the CloudEvent `time`. */
  'prefect.artifact.deleted': declare({ id, key: nullish(artifactKey), updated: nullish(timestamp) }),
  'prefect.flow.upserted': declare({ id, created, updated, name: required(text), tags: tagList }),
  'prefect.flow.deleted': deleted,
  'prefect.deployment.upserted': declare({
    id,
    created,
    updated,
    flow_id: nullish(uuid),
    name: required(text),
    tags: tagList,
    work_queue_name: nullish(text),
    paused: nullish(boolean, () => false),
    concurrency_limit: nullish(int32),
  }),
  'prefect.deployment.deleted': deleted,
  'prefect.flow-run.upserted': declare({
    id,
    created,
    updated,
    flow_id: nullish(uuid),
    deployment_id: nullish(uuid),
    name: required(text),
    tags: tagList,
    state_type: stateType,
    state_name: stateName,
    state,
    flow_version: nullish(text),
    work_queue_name: nullish(text),
    parent_task_run_id: nullish(uuid),
    idempotency_key: nullish(text),
    start_time: nullish(timestamp),
    end_time: nullish(timestamp),
    expected_start_time: nullish(timestamp),
    next_scheduled_start_time: nullish(timestamp),
    created_by: nullish(object({ id: nullish(uuid), type: nullish(text), display_value: nullish(text) })),
  }),
  'prefect.flow-run.deleted': deleted,
  'prefect.task-run.upserted': declare({
    id,
    created,
    updated,
    flow_run_id: nullish(uuid),
    name: required(text),
    tags: tagList,
    task_key: nullish(text),
    dynamic_key: nullish(text),
    state_type: stateType,
    state_name: stateName,
    state,
    start_time: nullish(timestamp),
    end_time: nullish(timestamp),
    expected_start_time: nullish(timestamp),
  }),
  'prefect.task-run.deleted': deleted,
} satisfies { [T in EventType]: Declaration<Fields> };

type Events = typeof EVENTS;
type FieldsOf<T extends EventType> = Events[T] extends Declaration<infer F> ? F : never;

export type PayloadTypes = { [T in EventType]: PayloadOf<FieldsOf<T>> };
/** Wire payloads as a producer sends them (Prefect REST shapes); extra fields are allowed. `data` may hold RawJson to send exact number literals. */
export type WirePayloads = { [T in EventType]: WireOf<FieldsOf<T>> };

export type ArtifactCreated = PayloadTypes['prefect.artifact.created'];
/** `undefined` means the field was absent (unchanged); `null` means set to null. */
export type ArtifactUpdated = PayloadTypes['prefect.artifact.updated'];
export type ArtifactDeleted = PayloadTypes['prefect.artifact.deleted'];
export type FlowUpserted = PayloadTypes['prefect.flow.upserted'];
export type DeploymentUpserted = PayloadTypes['prefect.deployment.upserted'];
export type FlowRunUpserted = PayloadTypes['prefect.flow-run.upserted'];
export type TaskRunUpserted = PayloadTypes['prefect.task-run.upserted'];
export type CreatedBy = NonNullable<FlowRunUpserted['created_by']>;
export type EntityDeleted = PayloadTypes['prefect.flow.deleted'];

const TYPES = Object.keys(EVENTS) as EventType[];
const perType = <V>(f: (d: Declaration<Fields>) => V) => Object.fromEntries(TYPES.map((t) => [t, f(EVENTS[t])])) as { [T in EventType]: V };

export const payloadSchemas = perType((d) => d.schema) as unknown as { [T in EventType]: z.ZodType<PayloadTypes[T], WirePayloads[T]> };

/** Top-level payload fields each type reads; the decoder converts only these from the lossless tree. */
export const payloadFields: { [T in EventType]: readonly string[] } = perType((d) => d.fields);

/** The decoded payload's fields and their value kinds, per type (the projections' column lists). */
export const payloadKinds = perType((d) => d.kinds) as unknown as { [T in EventType]: readonly (readonly [keyof PayloadTypes[T] & string, ValueKind])[] };

/** A zod error map giving "required" for a missing field instead of "expected string, received undefined". */
export function payloadErrorMap(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined;
}

/** The input payloadSchemas[type] validates: the fields it reads, lossless where the kind wants it. */
export function schemaInput(type: EventType, data: JsonObject): Record<string, unknown> {
  return EVENTS[type].plain(data);
}

/** The payload of a valid `data` object, exactly as payloadSchemas[type] would return it; undefined when it is not plainly valid (ask the schema). */
export function fastPayload<T extends EventType>(type: T, data: JsonObject): PayloadTypes[T] | undefined {
  return EVENTS[type].fast(data) as PayloadTypes[T] | undefined;
}

/** For tests: the field names the fast path reads, per type. */
export const fastPayloadFields = (type: EventType): string[] => [...EVENTS[type].fields];

/** A decoded payload from decoded values: the absent fields filled as decoding fills them (builders of test events). */
export function completePayload<T extends EventType>(type: T, p: Partial<PayloadTypes[T]>): PayloadTypes[T] {
  return EVENTS[type].complete(p) as PayloadTypes[T];
}
