import type { JsonValue } from '@app/contracts/json';
import {
  ArtifactQueryFilters,
  ArtifactTable,
  COUNT_PARAMETERS,
  CountArtifactsBody,
  CountLatestArtifactsBody,
  countStatement,
  LIST_PARAMETERS,
  ListRequest,
  listRequest,
  listStatement,
  ReadArtifactsBody,
  ReadLatestArtifactsBody,
  deferredDateTimeErrors,
  toPydanticErrors,
} from '@app/filters';
import { z } from 'zod';
import { detailError, validationError, ValidationItem } from '../http/prefect-errors';
import { DecodedBody, keysAt, toValidationInput, valueAt } from '../http/request-body';

const BODIES = {
  artifact: { list: ReadArtifactsBody, count: CountArtifactsBody },
  artifact_collection: { list: ReadLatestArtifactsBody, count: CountLatestArtifactsBody },
} as const;

/** The body of E1 (`artifact_collection`) or E4 (`artifact`), validated as Prefect does (§3.6). */
export function parseListRequest<T extends ArtifactTable>(table: T, body: DecodedBody, maxLimit: number): ListRequest<T> {
  const schema = BODIES[table].list;
  const input = validationInput(body, LIST_PARAMETERS);
  // LimitBody() is a dependency: resolved first, and a value out of range ends the request at once.
  const limit = input === undefined ? undefined : schema.shape.limit.safeParse((input as Record<string, unknown>).limit);
  if (limit?.success && limit.data != null) {
    if (limit.data < 0) throw detailError(422, 'Invalid limit: must be greater than or equal to 0.');
    if (limit.data > maxLimit) throw detailError(422, `Invalid limit: must be less than or equal to ${maxLimit}.`);
  }
  const parsed = validate(schema, input, body, (data) => listStatement(table, listRequest<T>(data, maxLimit)).values);
  return listRequest<T>(parsed, maxLimit);
}

/** The body of E2 or E5: only the five filters; sort, limit and offset are ignored unread. */
export function parseCountRequest<T extends ArtifactTable>(table: T, body: DecodedBody): ArtifactQueryFilters<T> {
  const schema = BODIES[table].count;
  return validate(schema, validationInput(body, COUNT_PARAMETERS), body, (data) => countStatement(table, data).values);
}

/**
 * The body as plain values, undefined when absent. A body that is JSON but not
 * an object gives one `missing` error per parameter (FastAPI cannot `.get`
 * members from it).
 */
export function validationInput(body: DecodedBody, parameters: readonly string[]): object | undefined {
  if (body.kind === 'failed') throw body.error;
  if (body.kind === 'absent') return undefined;
  if (body.value instanceof Map) return toValidationInput(body.value) as object;
  const missing = parameters.map((name): ValidationItem => ({ type: 'missing', loc: ['body', name], msg: 'Field required', input: null }));
  throw validationError(missing, body.value);
}

/**
 * The body validated by `schema`. `boundValues` gives the values the body's
 * statement binds; without it every value counts as bound.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: object | undefined,
  body: DecodedBody,
  boundValues?: (data: z.output<S>) => readonly unknown[],
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  const root: JsonValue = body.kind === 'json' ? body.value : null;
  // Offsets of a day or more pass Prefect's validation and then fail it (503) if bound: 422 once all else is valid.
  const deferred = result.success ? deferredDateTimeErrors(result.data, ['body'], boundBy(result.data, boundValues)) : [];
  if (result.success && deferred.length === 0) return result.data;
  const errors = result.success ? deferred : toPydanticErrors(result.error.issues, { loc: ['body'], keysAt: (path) => keysAt(root, path) });
  throw validationError(
    errors.map((e) => ({ ...e, input: valueAt(root, e.loc.slice(1)) })),
    root,
  );
}

function boundBy<T>(data: T, boundValues?: (data: T) => readonly unknown[]): ((offset: unknown) => boolean) | undefined {
  if (boundValues === undefined) return undefined;
  let bound: ReadonlySet<unknown> | undefined;
  return (offset) => (bound ??= new Set(boundValues(data))).has(offset);
}
