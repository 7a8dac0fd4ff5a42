import { z } from 'zod';
import type { PydanticIssue } from './lax';

/** One item of Prefect's `exception_detail`, before its `input` is attached (members in Pydantic's order). */
export interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  ctx?: Record<string, unknown>;
}

export interface ErrorMappingOptions {
  /** The path prefix, `["body"]` for FastAPI body parameters. */
  loc: (string | number)[];
  /**
   * The keys of the input object at `path` in their original order. Pydantic
   * reports extra keys in input order; JS objects move integer-like keys first.
   */
  keysAt?: (path: PropertyKey[]) => string[] | undefined;
}

/**
 * zod issues as Pydantic errors. zod already visits an object's declared
 * members in declaration order and reports unknown keys after them, which is
 * Pydantic's order; only the shapes differ.
 */
export function toPydanticErrors(issues: readonly z.core.$ZodIssue[], options: ErrorMappingOptions): PydanticError[] {
  const out: PydanticError[] = [];
  for (const issue of issues) {
    const path = issue.path as (string | number)[];
    const loc = [...options.loc, ...path];
    switch (issue.code) {
      case 'custom': {
        const p = (issue.params as { pydantic?: PydanticIssue } | undefined)?.pydantic;
        if (p) out.push(p.ctx ? { type: p.type, loc, msg: p.msg, ctx: p.ctx } : { type: p.type, loc, msg: p.msg });
        else out.push({ type: 'value_error', loc, msg: `Value error, ${issue.message}` });
        break;
      }
      case 'invalid_type':
        if (issue.expected === 'array') out.push({ type: 'list_type', loc, msg: 'Input should be a valid list' });
        else out.push({ type: 'model_attributes_type', loc, msg: 'Input should be a valid dictionary or object to extract fields from' });
        break;
      case 'unrecognized_keys': {
        const extra = new Set(issue.keys);
        const ordered = options.keysAt?.(path)?.filter((k) => extra.has(k)) ?? issue.keys;
        for (const key of ordered) out.push({ type: 'extra_forbidden', loc: [...loc, key], msg: 'Extra inputs are not permitted' });
        break;
      }
      default:
        out.push({ type: 'value_error', loc, msg: `Value error, ${issue.message}` });
    }
  }
  return out;
}
