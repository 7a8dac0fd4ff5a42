import { JsonNumber, JsonValue } from '@app/contracts/json';
import { detailError, PrefectHttpError, validationError } from './prefect-errors';
import { PythonJsonDecodeError, pythonJsonLoads, PythonJsonValueError } from './python-json';

/**
 * A request body as FastAPI sees it (§3.2): absent (no body, an empty one, a
 * non-JSON content type, or the literal `null`), a decoded JSON value, or a
 * decoding failure to report once routing has succeeded.
 */
export type DecodedBody =
  | { kind: 'absent' }
  | { kind: 'json'; value: Exclude<JsonValue, null> }
  | { kind: 'failed'; error: PrefectHttpError };

const ABSENT: DecodedBody = { kind: 'absent' };
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * FastAPI parses the body as JSON when there is no Content-Type or when it is
 * application/json or application/*+json (parameters allowed, as Python's
 * email.message reads it); any other type means "no body".
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const parts = type.split('/');
  if (parts.length !== 2) return false;
  const [main, sub = ''] = parts;
  return main === 'application' && (sub === 'json' || sub.endsWith('+json'));
}

export function decodeBody(contentType: string | undefined, raw: Buffer): DecodedBody {
  if (raw.length === 0 || !isJsonContentType(contentType)) return ABSENT;
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { kind: 'failed', error: parseFailure() };
  }
  try {
    const value = pythonJsonLoads(text);
    return value === null ? ABSENT : { kind: 'json', value };
  } catch (e) {
    if (e instanceof PythonJsonDecodeError) {
      const item = { type: 'json_invalid', loc: ['body', e.pos], msg: 'JSON decode error', input: {}, ctx: { error: e.msg } };
      return { kind: 'failed', error: validationError([item], text) };
    }
    if (e instanceof PythonJsonValueError) return { kind: 'failed', error: parseFailure() };
    throw e;
  }
}

/** FastAPI's answer when decoding fails with something other than a JSONDecodeError. */
const parseFailure = () => detailError(400, 'There was an error parsing the body');

/**
 * The decoded body as plain values for schema validation: objects become
 * plain objects, floats and safe integers JS numbers, larger integers bigints
 * (Python ints are exact, so `1e20` and `100000000000000000000` differ).
 */
export function toValidationInput(value: JsonValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof JsonNumber) {
    if (value.isFloat) return Number(value.raw);
    const n = Number(value.raw);
    return Number.isSafeInteger(n) ? n : BigInt(value.raw);
  }
  if (Array.isArray(value)) return value.map(toValidationInput);
  const out: Record<string, unknown> = {};
  for (const [k, v] of value) Object.defineProperty(out, k, { value: toValidationInput(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The value at a validation path in the decoded body (an error's `input`). */
export function valueAt(root: JsonValue, path: readonly PropertyKey[]): JsonValue {
  let node: JsonValue | undefined = root;
  for (const step of path) {
    if (node instanceof Map) node = node.get(String(step));
    else if (Array.isArray(node)) node = node[Number(step)];
    else return null;
  }
  return node ?? null;
}

/** The keys of the object at `path`, in body order. */
export function keysAt(root: JsonValue, path: readonly PropertyKey[]): string[] | undefined {
  const node = valueAt(root, path);
  return node instanceof Map ? [...node.keys()] : undefined;
}
