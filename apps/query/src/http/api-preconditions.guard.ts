import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { detailError } from './prefect-errors';
import type { DecodedBody } from './request-body';

const MINIMUM_API_VERSION = [0, 8, 0] as const;
// Python's int(): optional sign, digits with single underscores, surrounding whitespace.
const PY_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

/**
 * What Prefect checks once a route matched, in its order (§3.6): the body's
 * JSON syntax (decoded before any parameter), then the optional
 * X-PREFECT-API-VERSION header (EnforceMinimumAPIVersion).
 */
@Injectable()
export class ApiPreconditionsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const body = request.body as DecodedBody | undefined;
    if (body?.kind === 'failed') throw body.error;
    checkApiVersion(request.headers['x-prefect-api-version']);
    return true;
  }
}

export function checkApiVersion(header: string | string[] | undefined): void {
  const version = Array.isArray(header) ? header.join(', ') : header;
  if (!version) return;
  const parts = version.split('.');
  if (parts.length !== 3 || !parts.every((p) => PY_INT.test(p))) {
    throw detailError(400, `Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received ${version}`);
  }
  const requested = parts.map((p) => Number(p.trim().replaceAll('_', '')));
  for (let i = 0; i < 3; i++) {
    const a = requested[i] as number;
    const b = MINIMUM_API_VERSION[i] as number;
    if (a > b) return;
    if (a < b) {
      throw detailError(400, `The request specified API version ${version} but this server requires version 0.8.0 or higher.`);
    }
  }
}
