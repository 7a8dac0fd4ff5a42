import { checkApiVersion } from './api-preconditions.guard';
import { PrefectHttpError } from './prefect-errors';
import { lenientDecode, unroutedError } from './routes';

// Starlette's routing answers for requests no handler took (§3.1).
const answer = (method: string, url: string) => {
  const e = unroutedError(method, url, 'example.test:4200');
  return { status: e.status, body: e.body, location: e.headers.location };
};

describe('unroutedError', () => {
  it.each([
    ['GET', '/api/artifacts/filter'],
    ['GET', '/api/artifacts/latest/filter'],
    ['PATCH', '/api/artifacts/6f9619ff-8b86-d011-b42d-00c04fc964ff'],
    ['DELETE', '/api/artifacts/6F9619FF8B86D011B42D00C04FC964FF'],
    ['POST', '/api/artifacts/filter/latest'],
    ['GET', '/api/artifacts/'],
    ['POST', '/api/health'],
  ])('%s %s is 405', (method, url) => {
    expect(answer(method, url)).toEqual({ status: 405, body: '{"detail":"Method Not Allowed"}', location: undefined });
  });

  it.each([
    ['POST', '/api/artifacts/latest/filter/', 'http://example.test:4200/api/artifacts/latest/filter'],
    ['POST', '/api/artifacts/count///?x=1', 'http://example.test:4200/api/artifacts/count?x=1'],
    ['POST', '/api/artifacts', 'http://example.test:4200/api/artifacts/'],
    ['GET', '/api/artifacts/a%20b/latest/', 'http://example.test:4200/api/artifacts/a%20b/latest'],
    ['GET', '/api/health/', 'http://example.test:4200/api/health'],
  ])('%s %s is 307 to %s', (method, url, location) => {
    expect(answer(method, url)).toEqual({ status: 307, body: '', location });
  });

  it.each([
    ['GET', '/api/artifacts/not-a-uuid'],
    ['GET', '/api/artifacts/{6f9619ff-8b86-d011-b42d-00c04fc964ff}'],
    ['GET', '/api/artifacts//latest'],
    ['GET', '/api/artifacts/a%2Fb/latest'],
    ['GET', '/api/flows/filter'],
    ['GET', '/'],
  ])('%s %s is 404', (method, url) => {
    expect(answer(method, url)).toEqual({ status: 404, body: '{"detail":"Not Found"}', location: undefined });
  });

  it('decodes like urllib.parse.unquote', () => {
    expect(lenientDecode('/a%20b/%ZZ/%e2%82%ac/%ff')).toBe('/a b/%ZZ/€/%ff');
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
