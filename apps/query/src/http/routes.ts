import { detailError, PrefectHttpError } from './prefect-errors';

// Prefect's routing (Starlette) decides on the percent-decoded path: a route
// whose path matches but not its method answers 405; otherwise, when the path
// with its trailing slashes removed (or one added) matches a route, 307 there;
// otherwise 404. This table answers those cases for requests Fastify did not
// route. `{id}` routes only match UUID-looking segments (Starlette's uuid
// convertor), so /api/artifacts/not-a-uuid is 404 "Not Found".

export const UUID_SEGMENT = '[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}';

interface Route {
  pattern: RegExp;
  /** The methods this app serves on the path. */
  methods: readonly string[];
  /** Prefect's `allow` header for a 405 there: the methods of its first route on the path. */
  allow: string;
}

// FastAPI routes take exactly their methods: HEAD is not added to GET routes (405).
const GET = ['GET'];
const POST = ['POST'];

const ROUTES: Route[] = [
  // Prefect's create route. Writes reach this read model through Kafka, so no
  // method is served here, but the path exists (405, and 307 from /api/artifacts).
  { pattern: /^\/api\/artifacts\/$/, methods: [], allow: 'POST' },
  { pattern: new RegExp(`^/api/artifacts/${UUID_SEGMENT}$`), methods: GET, allow: 'GET' },
  { pattern: /^\/api\/artifacts\/[^/]+\/latest$/, methods: GET, allow: 'GET' },
  { pattern: /^\/api\/artifacts\/filter$/, methods: POST, allow: 'POST' },
  { pattern: /^\/api\/artifacts\/latest\/filter$/, methods: POST, allow: 'POST' },
  { pattern: /^\/api\/artifacts\/count$/, methods: POST, allow: 'POST' },
  { pattern: /^\/api\/artifacts\/latest\/count$/, methods: POST, allow: 'POST' },
  // Our extension: live subscriptions (apps/query/src/live/).
  { pattern: /^\/api\/artifacts\/latest\/subscribe$/, methods: ['GET', 'POST'], allow: 'GET, POST' },
  { pattern: /^\/api\/health$/, methods: GET, allow: 'GET' },
  { pattern: /^\/api\/ready$/, methods: GET, allow: 'GET' },
  { pattern: /^\/api\/admin\/version$/, methods: GET, allow: 'GET' },
  // The web page's own routes (not Prefect's), answered the same way.
  { pattern: /^\/ui-api\/artifacts\/latest$/, methods: POST, allow: 'POST' },
  { pattern: new RegExp(`^/ui-api/artifacts/${UUID_SEGMENT}$`), methods: GET, allow: 'GET' },
  { pattern: new RegExp(`^/ui-api/runs/${UUID_SEGMENT}$`), methods: GET, allow: 'GET' },
];

const UTF8 = new TextDecoder('utf-8');

/**
 * The path as uvicorn hands it to Starlette: Python's urllib.parse.unquote,
 * where an escape that is not `%` and two hex digits stays as written and
 * bytes that are not UTF-8 become U+FFFD (`/%E9` is `/\uFFFD`, `/a%` is `/a%`).
 */
export function lenientDecode(path: string): string {
  return path.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    const bytes = Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16));
    return UTF8.decode(bytes);
  });
}

const LATEST_BY_KEY = /^\/api\/artifacts\/[^/]+\/latest$/;

/**
 * Starlette mounts Prefect's API at `/api` with a `{path:path}` pattern (`.*`),
 * and Python's `.` stops at a newline: a decoded path holding `\n` reaches no
 * route at all (404 "Not Found", HEAD included), even where a key could be read.
 */
export function beyondMount(decodedPath: string): boolean {
  return decodedPath.startsWith('/api/') && decodedPath.includes('\n');
}

/**
 * The answer for a path Fastify cannot decode (`%`, `a%`, `%E9`, `%C3`...).
 * Starlette routes on the leniently decoded path, so GET /api/artifacts/{key}/latest
 * looks such a key up: it holds `%` or U+FFFD, which no stored key can (keys are
 * lowercase letters, digits and dashes), hence "Artifact not found.". Anything
 * else is answered as an unrouted request.
 */
export function undecodablePathError(method: string, url: string, host: string | undefined): PrefectHttpError {
  const path = lenientDecode(url.split('?', 1)[0] as string);
  if (method === 'GET' && LATEST_BY_KEY.test(path) && !beyondMount(path)) return detailError(404, 'Artifact not found.');
  return unroutedError(method, url, host);
}

/** The answer for a request no handler took: 405, 307 or 404. */
export function unroutedError(method: string, url: string, host: string | undefined): PrefectHttpError {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const path = lenientDecode(rawPath);
  if (beyondMount(path)) return detailError(404, 'Not Found');
  const matches = ROUTES.filter((r) => r.pattern.test(path));
  if (matches.length > 0) {
    if (matches.some((r) => r.methods.includes(method))) return detailError(404, 'Not Found');
    return detailError(405, 'Method Not Allowed', { allow: (matches[0] as Route).allow });
  }
  if (path !== '/') {
    const alternative = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
    if (ROUTES.some((r) => r.pattern.test(alternative))) {
      return new PrefectHttpError(307, '', { location: pythonQuote(`http://${host ?? 'localhost'}${alternative}${query}`) });
    }
  }
  return detailError(404, 'Not Found');
}

/** Starlette's RedirectResponse location: urllib.parse.quote with its safe characters. */
function pythonQuote(url: string): string {
  return url.replace(/[^A-Za-z0-9_.\-~:/%#?=@[\]!$&'()*+,;]/gu, (c) => encodeURIComponent(c));
}
