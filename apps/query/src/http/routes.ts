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
  methods: readonly string[];
}

const GET = ['GET', 'HEAD'];
const POST = ['POST'];

const ROUTES: Route[] = [
  // Prefect's create route. Writes reach this read model through Kafka, so no
  // method is served here, but the path exists (405, and 307 from /api/artifacts).
  { pattern: /^\/api\/artifacts\/$/, methods: [] },
  { pattern: new RegExp(`^/api/artifacts/${UUID_SEGMENT}$`), methods: GET },
  { pattern: /^\/api\/artifacts\/[^/]+\/latest$/, methods: GET },
  { pattern: /^\/api\/artifacts\/filter$/, methods: POST },
  { pattern: /^\/api\/artifacts\/latest\/filter$/, methods: POST },
  { pattern: /^\/api\/artifacts\/count$/, methods: POST },
  { pattern: /^\/api\/artifacts\/latest\/count$/, methods: POST },
  { pattern: /^\/api\/health$/, methods: GET },
  { pattern: /^\/api\/ready$/, methods: GET },
  { pattern: /^\/api\/admin\/version$/, methods: GET },
  // The web page's own routes (not Prefect's), answered the same way.
  { pattern: /^\/ui-api\/artifacts\/latest$/, methods: POST },
  { pattern: new RegExp(`^/ui-api/artifacts/${UUID_SEGMENT}$`), methods: GET },
  { pattern: new RegExp(`^/ui-api/runs/${UUID_SEGMENT}$`), methods: GET },
];

/** Python's urllib.parse.unquote: invalid escapes stay as they are. */
export function lenientDecode(path: string): string {
  return path.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** The answer for a request no handler took: 405, 307 or 404. */
export function unroutedError(method: string, url: string, host: string | undefined): PrefectHttpError {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const path = lenientDecode(rawPath);
  const matches = ROUTES.filter((r) => r.pattern.test(path));
  if (matches.length > 0) {
    return matches.some((r) => r.methods.includes(method)) ? detailError(404, 'Not Found') : detailError(405, 'Method Not Allowed');
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
