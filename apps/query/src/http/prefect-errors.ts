import type { JsonValue } from '@app/contracts/json';
import type { PydanticError } from '@app/filters';
import { pythonJsonDumps } from './python-json';

/**
 * An HTTP answer in one of Prefect's error shapes. `body` is the exact JSON
 * text; `headers` are extra response headers (Location for a 307).
 */
export class PrefectHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** FastAPI's HTTPException: `{"detail": "..."}`. */
export function detailError(status: number, detail: string, headers?: Record<string, string>): PrefectHttpError {
  return new PrefectHttpError(status, JSON.stringify({ detail }), headers);
}

export const notFound = () => detailError(404, 'Not Found');
export const artifactNotFound = () => detailError(404, 'Artifact not found.');

/** One `exception_detail` item with its input attached. */
export interface ValidationItem extends PydanticError {
  input: JsonValue | Record<string, never>;
}

/**
 * Prefect's validation envelope (its RequestValidationError handler):
 * items as {type, loc, msg, input, ctx?}, then the request body as decoded
 * (raw text for json_invalid, null when there was none).
 */
export function validationError(items: ValidationItem[], requestBody: JsonValue): PrefectHttpError {
  const detail = items.map(({ type, loc, msg, input, ctx }) => (ctx ? { type, loc, msg, input, ctx } : { type, loc, msg, input }));
  const body = pythonJsonDumps({ exception_message: 'Invalid request received.', exception_detail: detail, request_body: requestBody });
  return new PrefectHttpError(422, body);
}

export const EXCEPTION_BODIES = {
  unauthorized: '{"exception_message":"Unauthorized"}',
  internal: '{"exception_message":"Internal Server Error"}',
  unavailable: '{"exception_message":"Service Unavailable"}',
} as const;
