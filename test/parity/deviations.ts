import { Answer } from './support/compare';
import { ParityRequest } from './support/generator';

// The deliberate deviations from the real Prefect server (class 7 of the parity issue),
// in one place: requests where Prefect on PostgreSQL fails with a 5xx and we answer
// better. A disagreement counts as one of these only when Prefect answered 5xx, the
// request matches, and ours gave the answer written here; every other disagreement,
// including a Prefect 5xx that no entry covers, is reported as a failure.

export interface Deviation {
  id: string;
  /** What Prefect does and what we do instead (for the table and the API docs). */
  what: string;
  matches(request: ParityRequest): boolean;
  /** Problems with our answer (empty when ours is what it should be). */
  checkOurs(ours: Answer): string[];
  /** A request that shows it; every run sends these too. */
  probe: ParityRequest;
}

const json = { 'content-type': 'application/json' };
const post = (path: string, body: string): ParityRequest => ({ method: 'POST', path, route: `POST ${path}`, headers: json, body });

function validationError(ours: Answer): string[] {
  if (ours.status !== 422) return [`status ${ours.status}, expected 422`];
  try {
    const body = JSON.parse(ours.body) as Record<string, unknown>;
    return body.exception_message === 'Invalid request received.' && Array.isArray(body.exception_detail) && body.exception_detail.length > 0
      ? []
      : [`not Prefect's validation envelope: ${ours.body.slice(0, 300)}`];
  } catch {
    return [`body is not JSON: ${ours.body.slice(0, 300)}`];
  }
}

/** A NaN / Infinity literal, or a number whose exponent overflows a double, outside strings. */
function nonFinite(body: string): boolean {
  const outsideStrings = body.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (/(^|[^A-Za-z])(NaN|Infinity)/.test(outsideStrings)) return true;
  return [...outsideStrings.matchAll(/\d(?:\.\d*)?[eE]\+?(\d+)/g)].some((m) => Number(m[1]) > 308);
}

const isFilter = (r: ParityRequest) => r.method === 'POST' && /\/filter$/.test(r.path);

export const DEVIATIONS: Deviation[] = [
  {
    id: 'offset-beyond-int64',
    what: 'an offset of 2^63 or more: Prefect passes it to PostgreSQL and answers 503; we answer 200 with an empty page',
    matches: (r) => isFilter(r) && /"offset"\s*:\s*(\d{19,})/.test(r.body ?? '') && BigInt(/"offset"\s*:\s*(\d{19,})/.exec(r.body ?? '')![1]!) >= 2n ** 63n,
    checkOurs: (ours) => (ours.status === 200 && ours.body === '[]' ? [] : [`expected 200 [], got ${ours.status} ${ours.body.slice(0, 300)}`]),
    probe: post('/api/artifacts/filter', '{"offset": 9223372036854775808}'),
  },
  {
    id: 'non-finite-number-in-invalid-body',
    what:
      'a body holding NaN, Infinity or a number beyond the float range (1e400) that fails validation (NaN as limit, in a filter, or beside any other error): ' +
      "Prefect's 422 response cannot serialise the non-finite input it echoes and it answers 500; we answer the 422 (non-finite inputs echoed as null)",
    matches: (r) => r.method === 'POST' && nonFinite(r.body ?? ''),
    checkOurs: validationError,
    probe: post('/api/artifacts/filter', '{"limit": NaN}'),
  },
  {
    id: 'utc-offset-24h',
    what: 'a datetime with a UTC offset of ±24:00 or more: Prefect answers 503 (PostgreSQL rejects it); we answer 422',
    matches: (r) => /[+-]2[4-9]:\d\d"/.test(r.body ?? ''),
    checkOurs: validationError,
    probe: post('/api/artifacts/latest/count', '{"flow_runs": {"start_time": {"after_": "2024-01-01T00:00:00+24:00"}}}'),
  },
  {
    id: 'nul-in-text',
    what: 'a NUL character (\\u0000) in a key path or a filter string: Prefect answers 503 (PostgreSQL text cannot hold it); we answer as for any value that matches nothing',
    matches: (r) => /\\u0000/.test(r.body ?? '') || /%00/.test(r.path),
    checkOurs: (ours) => {
      if (ours.status === 404) return ours.body === '{"detail":"Artifact not found."}' ? [] : [`expected 404 "Artifact not found.", got ${ours.body}`];
      if (ours.status === 200) return [];
      if (ours.status === 422) return validationError(ours);
      return [`unexpected status ${ours.status}`];
    },
    probe: { method: 'GET', path: '/api/artifacts/%00/latest', route: 'GET /api/artifacts/{key}/latest', headers: {} },
  },
];

/**
 * The deviation a disagreement is, if any (Prefect must have failed with a 5xx).
 * A request can match several (a NUL in a filter beside an ignored `Infinity`):
 * the one our answer fits is taken, else the first that matches, whose check then reports it.
 */
export function deviationOf(request: ParityRequest, prefect: Answer, ours?: Answer): Deviation | undefined {
  if (prefect.status < 500) return undefined;
  const matching = DEVIATIONS.filter((d) => d.matches(request));
  return (ours && matching.find((d) => d.checkOurs(ours).length === 0)) || matching[0];
}
