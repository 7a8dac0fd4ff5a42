import { z } from 'zod';
import { parseDateTimeText, parseInstant } from './datetime';
import { parseUuid } from './uuid';

/**
 * The input our schemas validate: a JSON body decoded the way Python's json
 * module does, as plain JS values; integer literals beyond 2^53 are bigints
 * (Python ints are exact), every other number is a JS number.
 */
export type JsonInput = unknown;

/** A Pydantic error (its `type`, `msg` and `ctx`), carried by a zod custom issue's `params.pydantic`. */
export interface PydanticIssue {
  type: string;
  msg: string;
  ctx?: Record<string, unknown>;
}

class Invalid {
  constructor(readonly issue: PydanticIssue) {}
}

const invalid = (type: string, msg: string, ctx?: Record<string, unknown>) => new Invalid({ type, msg, ctx });

/** A zod leaf whose failures are Pydantic's lax-mode errors; `jsonSchema` documents its accepted input. */
function leaf<T>(parse: (input: JsonInput) => T | Invalid, jsonSchema: Record<string, unknown>) {
  return z
    .unknown()
    .transform((input, ctx): T => {
      const result = parse(input);
      if (!(result instanceof Invalid)) return result;
      ctx.issues.push({ code: 'custom', input, message: result.issue.msg, params: { pydantic: result.issue } });
      return z.NEVER;
    })
    .meta(jsonSchema);
}

// pydantic-core's float_as_int bounds: (i64::MIN as f64, i64::MAX as f64), exclusive.
const I64_LIMIT = 2 ** 63;

function laxInt(input: JsonInput): number | Invalid {
  switch (typeof input) {
    case 'number':
      if (!Number.isFinite(input)) return invalid('finite_number', 'Input should be a finite number');
      if (!Number.isInteger(input)) {
        return invalid('int_from_float', 'Input should be a valid integer, got a number with a fractional part');
      }
      if (Math.abs(input) >= I64_LIMIT) {
        return invalid('int_parsing_size', 'Unable to parse input string as an integer, exceeded maximum size');
      }
      return input === 0 ? 0 : input;
    case 'bigint':
      return Number(input);
    case 'boolean':
      return input ? 1 : 0;
    case 'string': {
      const s = input.trim();
      if (s.length > 4300) {
        return invalid('int_parsing_size', 'Unable to parse input string as an integer, exceeded maximum size');
      }
      // Rust's str::parse::<i64>, then "digits followed by '.' and only zeros".
      const m = /^([+-]?\d+)(?:\.0*)?$/.exec(s);
      if (m) return Number(m[1]) || 0;
      return invalid('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
    }
    default:
      return invalid('int_type', 'Input should be a valid integer');
  }
}

function laxBool(input: JsonInput): boolean | Invalid {
  switch (typeof input) {
    case 'boolean':
      return input;
    case 'number':
    case 'bigint': {
      if (input == 0) return false;
      if (input == 1) return true;
      // pydantic-core 2.50.5 (probed): another integral value within i64 (2, -1, 2.0) cannot be
      // interpreted; a fraction (0.5) or a number beyond i64 (2**63, 1e20) is no boolean at all.
      const integral = typeof input === 'bigint' || Number.isInteger(input);
      const big = BigInt(typeof input === 'bigint' ? input : integral ? input : 0);
      if (integral && big >= -(2n ** 63n) && big < 2n ** 63n) {
        return invalid('bool_parsing', 'Input should be a valid boolean, unable to interpret input');
      }
      return invalid('bool_type', 'Input should be a valid boolean');
    }
    case 'string': {
      const s = input.toLowerCase();
      if (input === '0' || ['f', 'n', 'no', 'off', 'false'].includes(s)) return false;
      if (input === '1' || ['t', 'y', 'on', 'yes', 'true'].includes(s)) return true;
      return invalid('bool_parsing', 'Input should be a valid boolean, unable to interpret input');
    }
    default:
      return invalid('bool_type', 'Input should be a valid boolean');
  }
}

/** Pydantic's enum message: every value single-quoted, the last one joined with "or". */
export function expectedValues(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length === 1 ? (quoted[0] as string) : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** `int` in lax mode: integral floats, numeric strings and booleans are accepted. */
export const intField = (description: string) => leaf(laxInt, { type: 'integer', description });

/** `int = Body(0, ge=0)` (offset). */
export const nonNegativeIntField = (description: string) =>
  leaf(
    (input) => {
      const n = laxInt(input);
      if (n instanceof Invalid || n >= 0) return n;
      return invalid('greater_than_equal', 'Input should be greater than or equal to 0', { ge: 0 });
    },
    { type: 'integer', minimum: 0, description },
  );

/** `bool` in lax mode: 0/1 and the usual yes/no strings. */
export const boolField = (description: string) => leaf(laxBool, { type: 'boolean', description });

/** `str`: JSON strings only (no number-to-string coercion). */
export const strField = (description: string) =>
  leaf((input) => (typeof input === 'string' ? input : invalid('string_type', 'Input should be a valid string')), {
    type: 'string',
    description,
  });

/** `uuid.UUID`: any case, with or without hyphens, braced or urn:uuid:; output is canonical lowercase. */
export const uuidField = (description: string) =>
  leaf(
    (input) => {
      if (typeof input !== 'string') return invalid('uuid_type', 'UUID input should be a string, bytes or UUID object');
      const parsed = parseUuid(input);
      if ('uuid' in parsed) return parsed.uuid;
      return invalid('uuid_parsing', `Input should be a valid UUID, ${parsed.error}`, { error: parsed.error });
    },
    { type: 'string', format: 'uuid', description },
  );

/** A str Enum: exact, case-sensitive values. */
export const enumField = <const V extends readonly [string, ...string[]]>(values: V, description: string) => {
  const expected = expectedValues(values);
  return leaf(
    (input) =>
      typeof input === 'string' && (values as readonly string[]).includes(input)
        ? (input as V[number])
        : invalid('enum', `Input should be ${expected}`, { expected }),
    { type: 'string', enum: [...values], description },
  );
};

/**
 * A datetime whose offset is 24 hours or more ("+24:00"): valid for Prefect's
 * validation, which therefore reports the body's other errors without it, but
 * Prefect then fails (503) when it binds the value. We answer 422 for it once
 * the body is otherwise valid and its statement binds it (deferredDateTimeErrors);
 * it never reaches PostgreSQL.
 */
export class DayOrMoreOffset {
  constructor(readonly input: string) {}
}

/**
 * The DayOrMoreOffset values of a validated body that `bound` holds (all by
 * default), as Pydantic-style errors at their paths (empty: none). Prefect fails
 * only on a value it binds: one in a condition SQLAlchemy drops is harmless.
 */
export function deferredDateTimeErrors(
  value: unknown,
  path: (string | number)[] = [],
  bound: (offset: DayOrMoreOffset) => boolean = () => true,
): { type: string; loc: (string | number)[]; msg: string; ctx: Record<string, unknown> }[] {
  if (value instanceof DayOrMoreOffset) {
    return bound(value) ? [{ type: 'value_error', loc: path, msg: `Value error, Unable to parse string [${value.input}]`, ctx: { error: {} } }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => deferredDateTimeErrors(v, [...path, i], bound));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => deferredDateTimeErrors(v, [...path, k], bound));
  return [];
}

/** Prefect's `DateTime`: Pydantic's ISO 8601 (naive = UTC), date-only or Unix seconds/milliseconds, then pendulum's formats. Output: a UTC instant text. */
export const dateTimeField = (description: string) =>
  leaf(
    (input) => {
      if (typeof input === 'string') {
        const instant = parseInstant(input);
        if (instant !== undefined) return instant;
        // What Pydantic refuses, pendulum may take ("now", "2024-W01", "12:00"...).
        const parsed = parseDateTimeText(input);
        if ('instant' in parsed) {
          // Typed as the instant text: request parsing turns it into a 422 before any SQL (deferredDateTimeErrors).
          return parsed.dayOrMoreOffset ? (new DayOrMoreOffset(input) as unknown as string) : parsed.instant;
        }
        return parsed.valueError ? invalid('value_error', parsed.msg, { error: {} }) : invalid('value_error', parsed.msg);
      }
      if (typeof input === 'number' || typeof input === 'bigint') {
        const instant = parseInstant(Number(input));
        if (instant !== undefined) return instant;
      }
      return invalid('value_error', 'value is not a valid datetime');
    },
    { type: 'string', format: 'date-time', description },
  );
