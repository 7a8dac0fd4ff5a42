import { checkApiVersion } from './api-preconditions.guard';
import { PrefectHttpError } from './prefect-errors';
import { beyondMount, lenientDecode, undecodablePathError, unroutedError } from './routes';

// Starlette's routing answers for requests no handler took (§3.1).
const answer = (method: string, url: string) => {
  const e = unroutedError(method, url, 'example.test:4200');
  return { status: e.status, body: e.body, location: e.headers.location, allow: e.headers.allow };
};

describe('unroutedError', () => {
  // The `allow` values as Prefect 3.6.24 sends them (probed).
  it.each([
    ['GET', '/api/artifacts/filter', 'POST'],
    ['HEAD', '/api/artifacts/filter', 'POST'],
    ['GET', '/api/artifacts/latest/filter', 'POST'],
    ['PATCH', '/api/artifacts/6f9619ff-8b86-d011-b42d-00c04fc964ff', 'GET'],
    ['DELETE', '/api/artifacts/6F9619FF8B86D011B42D00C04FC964FF', 'GET'],
    ['HEAD', '/api/artifacts/6f9619ff-8b86-d011-b42d-00c04fc964ff', 'GET'],
    ['POST', '/api/artifacts/filter/latest', 'GET'],
    ['HEAD', '/api/artifacts/some-key/latest', 'GET'],
    ['GET', '/api/artifacts/', 'POST'],
    ['HEAD', '/api/artifacts/', 'POST'],
    ['POST', '/api/health', 'GET'],
    ['HEAD', '/api/health', 'GET'],
    ['HEAD', '/api/ready', 'GET'],
    ['HEAD', '/api/admin/version', 'GET'],
  ])('%s %s is 405 with allow: %s', (method, url, allow) => {
    expect(answer(method, url)).toEqual({ status: 405, body: '{"detail":"Method Not Allowed"}', location: undefined, allow });
  });

  it.each([
    ['POST', '/api/artifacts/latest/filter/', 'http://example.test:4200/api/artifacts/latest/filter'],
    ['POST', '/api/artifacts/count///?x=1', 'http://example.test:4200/api/artifacts/count?x=1'],
    ['POST', '/api/artifacts', 'http://example.test:4200/api/artifacts/'],
    ['GET', '/api/artifacts/a%20b/latest/', 'http://example.test:4200/api/artifacts/a%20b/latest'],
    ['GET', '/api/health/', 'http://example.test:4200/api/health'],
  ])('%s %s is 307 to %s', (method, url, location) => {
    expect(answer(method, url)).toEqual({ status: 307, body: '', location, allow: undefined });
  });

  it.each([
    ['GET', '/api/artifacts/not-a-uuid'],
    ['GET', '/api/artifacts/{6f9619ff-8b86-d011-b42d-00c04fc964ff}'],
    ['GET', '/api/artifacts//latest'],
    ['GET', '/api/artifacts/a%2Fb/latest'],
    ['GET', '/api/flows/filter'],
    ['GET', '/'],
  ])('%s %s is 404', (method, url) => {
    expect(answer(method, url)).toEqual({ status: 404, body: '{"detail":"Not Found"}', location: undefined, allow: undefined });
  });

  it('decodes like urllib.parse.unquote (invalid escapes kept, bytes that are not UTF-8 as U+FFFD)', () => {
    expect(lenientDecode('/a%20b/%ZZ/%e2%82%ac/%ff')).toBe('/a b/%ZZ/€/\uFFFD');
    expect(lenientDecode('/%/a%/%E9/%C3/%C3%A9/%E9%')).toBe('/%/a%/\uFFFD/\uFFFD/é/\uFFFD%');
  });
});

describe('undecodablePathError (paths Fastify cannot decode)', () => {
  const undecodable = (method: string, url: string) => {
    const e = undecodablePathError(method, url, 'example.test:4200');
    return { status: e.status, body: e.body, allow: e.headers.allow };
  };

  // Prefect 3.6.24 looks the key up ("%", "a%", "\uFFFD") and finds nothing.
  it.each(['/api/artifacts/%/latest', '/api/artifacts/a%/latest', '/api/artifacts/%E9/latest', '/api/artifacts/%C3/latest', '/api/artifacts/%E9%/latest?x=%'])(
    'GET %s is 404 Artifact not found.',
    (url) => {
      expect(undecodable('GET', url)).toEqual({ status: 404, body: '{"detail":"Artifact not found."}', allow: undefined });
    },
  );

  it.each(['/api/artifacts/%E9', '/api/artifacts/%', '/api/artifacts/%/', '/api/%E9/latest'])('GET %s is 404 Not Found (no route)', (url) => {
    expect(undecodable('GET', url)).toEqual({ status: 404, body: '{"detail":"Not Found"}', allow: undefined });
  });

  it('HEAD on the key route is 405 as for any key', () => {
    expect(undecodable('HEAD', '/api/artifacts/%E9/latest')).toEqual({ status: 405, body: '{"detail":"Method Not Allowed"}', allow: 'GET' });
  });

  // Starlette's /api mount matches `.*`, which stops at a newline: no route at all.
  it.each([
    ['GET', '/api/artifacts/%E9%0A/latest'],
    ['HEAD', '/api/artifacts/%0A%E9/latest'],
  ])('%s %s (a newline in the path) is 404 Not Found', (method, url) => {
    expect(undecodable(method, url)).toEqual({ status: 404, body: '{"detail":"Not Found"}', allow: undefined });
  });
});

describe('a newline in the decoded path under /api', () => {
  it.each([
    ['GET', '/api/artifacts/k%0A/latest'],
    ['HEAD', '/api/artifacts/k%0a/latest'],
    ['GET', '/api/artifacts/k/latest%0A'],
    ['POST', '/api/artifacts/filter%0A'],
  ])('%s %s reaches no route: 404 Not Found', (method, url) => {
    const e = unroutedError(method, url, 'example.test:4200');
    expect([e.status, e.body]).toEqual([404, '{"detail":"Not Found"}']);
    expect(beyondMount(lenientDecode(url))).toBe(true);
  });

  it('a carriage return, or a newline outside /api, is not that case', () => {
    expect(beyondMount(lenientDecode('/api/artifacts/k%0D/latest'))).toBe(false);
    expect(beyondMount(lenientDecode('/docs%0A'))).toBe(false);
  });
});

describe('checkApiVersion (EnforceMinimumAPIVersion)', () => {
  const check = (header: string | undefined) => {
    try {
      checkApiVersion(header);
      return 'ok';
    } catch (e) {
      return (e as PrefectHttpError).body;
    }
  };

  it.each([undefined, '', '0.8.0', '0.8.4', '1.0.0', ' 0 . 9 .0', '0.8.1_0'])('accepts %p', (header) => {
    expect(check(header)).toBe('ok');
  });

  it('refuses other shapes with the exact text (no space after "format.")', () => {
    expect(check('abc')).toBe(`{"detail":"Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received abc"}`);
    expect(check('1.2')).toBe(`{"detail":"Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received 1.2"}`);
    expect(check('1.2.3.4')).toBe(`{"detail":"Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received 1.2.3.4"}`);
  });

  it('refuses versions below 0.8.0', () => {
    expect(check('0.7.9')).toBe('{"detail":"The request specified API version 0.7.9 but this server requires version 0.8.0 or higher."}');
    expect(check('0.8.-1')).toBe('{"detail":"The request specified API version 0.8.-1 but this server requires version 0.8.0 or higher."}');
  });
});

describe('PrefectHttpError bodies', () => {
  it('307 has no body', () => {
    expect(answer('POST', '/api/artifacts').body).toBe('');
  });
});
