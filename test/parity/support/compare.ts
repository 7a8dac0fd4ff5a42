import { isLosslessNumber, parse as losslessParse } from 'lossless-json';
import { ParityRequest } from './generator';

// Compares one answer pair exactly (status and body text) and, when they differ, names
// the difference in a normalised way (route + what differs, without the request's
// particular values) so that many requests fall into one class.

export interface Answer {
  status: number;
  body: string;
}

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: losslessParse(text) };
  } catch {
    return { ok: false };
  }
}

/** A short signature of an error answer: 404's detail, 422's first error type. */
function signature(answer: Answer): string {
  const parsed = parse(answer.body);
  if (!parsed.ok) return answer.body === '' ? '' : 'non-JSON';
  if (!parsed.value || typeof parsed.value !== 'object' || isLosslessNumber(parsed.value)) return answer.status === 200 ? 'value' : '';
  const v = parsed.value as Record<string, unknown>;
  if (answer.status === 422 && Array.isArray(v.exception_detail)) {
    const first = v.exception_detail[0] as Record<string, unknown> | undefined;
    return first ? `${String(first.type)}` : '[]';
  }
  if (typeof v.detail === 'string') return JSON.stringify(v.detail);
  if (answer.status === 200) return Array.isArray(v) ? 'list' : 'object';
  return '';
}

function sameNumber(a: string, b: string): boolean {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && na === nb && (/[.eE]/.test(a) || /[.eE]/.test(b));
}

function normalisePath(path: string[]): string {
  const out: string[] = [];
  for (const part of path) {
    out.push(/^\d+$/.test(part) ? '[]' : part);
    // Below data and metadata_ the member names are the history's, not the API's.
    if (part === 'data' || part === 'metadata_' || part === 'input' || part === 'request_body' || part === 'ctx') break;
  }
  return out.join('.').replace(/\.\[\]/g, '[]') || '(root)';
}

function diff(a: unknown, b: unknown, path: string[], out: Set<string>): void {
  if (isLosslessNumber(a) && isLosslessNumber(b)) {
    if (a.value !== b.value) out.add(sameNumber(a.value, b.value) ? `number text at ${normalisePath(path)}` : `value at ${normalisePath(path)}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.add(`length at ${normalisePath(path)}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diff(a[i], b[i], [...path, String(i)], out);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of Object.keys(ao)) if (!(k in bo)) out.add(`member only in Prefect at ${normalisePath([...path, k])}`);
    for (const k of Object.keys(bo)) if (!(k in ao)) out.add(`member only in ours at ${normalisePath([...path, k])}`);
    for (const k of Object.keys(ao)) if (k in bo) diff(ao[k], bo[k], [...path, k], out);
    if (out.size === 0 && Object.keys(ao).join() !== Object.keys(bo).join()) out.add(`member order at ${normalisePath(path)}`);
    return;
  }
  if (a !== b) out.add(`value at ${normalisePath(path)}`);
}

const rowId = (row: unknown) => (row && typeof row === 'object' ? String((row as Record<string, unknown>).latest_id ?? (row as Record<string, unknown>).id) : String(row));

function sortOf(request: ParityRequest): string {
  const match = /"sort"\s*:\s*("[^"]*"|null|[^,}]+)/.exec(request.body ?? '');
  return match ? match[1]!.replace(/"/g, '') : 'default';
}

/** A member of the request's JSON body (undefined when absent or the body is not plain JSON). */
function bodyMember(request: ParityRequest, name: string): unknown {
  try {
    const body = JSON.parse(request.body ?? '') as unknown;
    return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Versions under KEY_ASC / KEY_DESC: Prefect orders by `key` alone, so among equal keys
 * PostgreSQL's order is arbitrary (ours breaks ties by id, docs/api.md §6). Such answers
 * agree when the keys come in the same sequence and each tie group holds the same rows
 * with the same text; a group the page cuts (first with an offset, last on a full page)
 * may hold any of the tied rows, so only its keys count. Undefined: not such a pair.
 */
function tiedKeyDifferences(request: ParityRequest, p: unknown[], o: unknown[]): Set<string> | undefined {
  const sort = bodyMember(request, 'sort');
  if (request.route !== 'POST /api/artifacts/filter' || (sort !== 'KEY_ASC' && sort !== 'KEY_DESC') || p.length !== o.length) return undefined;
  const keyOf = (row: unknown) => JSON.stringify((row as Record<string, unknown> | null)?.key ?? null);
  if (p.map(keyOf).join() !== o.map(keyOf).join()) return undefined;
  const count = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined);
  const limit = count(bodyMember(request, 'limit')) ?? 200;
  const offset = count(bodyMember(request, 'offset')) ?? 0;
  const kinds = new Set<string>();
  for (let start = 0; start < p.length; ) {
    let end = start + 1;
    while (end < p.length && keyOf(p[end]) === keyOf(p[start])) end++;
    const cut = (start === 0 && offset > 0) || (end === p.length && p.length === limit);
    if (!cut) {
      const theirs = p.slice(start, end);
      const byId = new Map(o.slice(start, end).map((row) => [rowId(row), row]));
      if (theirs.some((row) => !byId.has(rowId(row)))) kinds.add(`different rows among equal keys (sort ${String(sort)})`);
      else theirs.forEach((row, i) => diff(row, byId.get(rowId(row)), [String(start + i)], kinds));
    }
    start = end;
  }
  return kinds;
}

/**
 * The disagreement classes of one answer pair: none when they agree; one per kind of
 * difference otherwise (a list can differ both in row order and in number text).
 */
export function classify(request: ParityRequest, prefect: Answer, ours: Answer): string[] {
  if (prefect.status === ours.status && prefect.body === ours.body) return [];
  const route = request.route;
  if (prefect.status !== ours.status) return [`${route}: status ${prefect.status} ${signature(prefect)} vs ours ${ours.status} ${signature(ours)}`.replace(/ +/g, ' ').trim()];
  const p = parse(prefect.body);
  const o = parse(ours.body);
  if (!p.ok || !o.ok) return [`${route}: ${prefect.status}: body text differs (not JSON)`];
  const kinds = new Set<string>();
  const tied = Array.isArray(p.value) && Array.isArray(o.value) ? tiedKeyDifferences(request, p.value, o.value) : undefined;
  if (tied) {
    if (tied.size === 0) return [];
    for (const kind of tied) kinds.add(kind);
  } else if (Array.isArray(p.value) && Array.isArray(o.value)) {
    const pi = p.value.map(rowId);
    const oi = o.value.map(rowId);
    if (pi.join() !== oi.join() && [...pi].sort().join() === [...oi].sort().join()) {
      kinds.add(`row order differs (sort ${sortOf(request)})`);
      const byId = new Map(o.value.map((row) => [rowId(row), row]));
      p.value.forEach((row, i) => diff(row, byId.get(rowId(row)), [String(i)], kinds));
    } else if (pi.join() !== oi.join()) {
      kinds.add(`different rows (sort ${sortOf(request)})`);
    } else {
      diff(p.value, o.value, [], kinds);
    }
  } else {
    diff(p.value, o.value, [], kinds);
  }
  if (kinds.size === 0 && !tied) kinds.add('same JSON, different text');
  return [...kinds].sort().map((kind) => `${route}: ${prefect.status}: ${kind}`);
}
