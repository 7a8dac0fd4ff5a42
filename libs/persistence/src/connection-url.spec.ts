import { multiHostUrls, pgConnectionString, wantsReadWrite } from './connection-url';

describe('DATABASE_URL for node-postgres', () => {
  it.each(['require', 'verify-ca', 'verify-full', 'prefer', 'disable'])('sslmode=%s gets libpq semantics', (mode) => {
    expect(pgConnectionString(`postgres://u:p@db:5432/x?sslmode=${mode}`)).toBe(`postgres://u:p@db:5432/x?sslmode=${mode}&uselibpqcompat=true`);
    expect(pgConnectionString(`postgres://u:p@db/x?sslrootcert=/ca.pem&sslmode=${mode}`)).toBe(`postgres://u:p@db/x?sslrootcert=/ca.pem&sslmode=${mode}&uselibpqcompat=true`);
  });

  it.each([
    'postgres://u:p@db:5432/x',
    'postgres://u:p@db:5432/x?application_name=a',
    'postgres://u:p@db:5432/x?sslmode=no-verify',
    'postgres://u:p@db:5432/x?sslmode=require&uselibpqcompat=false',
    'not a url',
  ])('%s is left as it is', (url) => {
    expect(pgConnectionString(url)).toBe(url);
  });
});

describe('a multi-host DATABASE_URL', () => {
  it('names each host alone, in order, without target_session_attrs', () => {
    expect(multiHostUrls('postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write')).toEqual([
      { host: 'h1', port: 5432, url: 'postgres://u:p@h1:5432/db' },
      { host: 'h2', port: 5433, url: 'postgres://u:p@h2:5433/db' },
    ]);
    expect(multiHostUrls('postgres://h1,h2:6000/db?sslmode=require&target_session_attrs=read-write')).toEqual([
      { host: 'h1', port: 5432, url: 'postgres://h1:5432/db?sslmode=require' },
      { host: 'h2', port: 6000, url: 'postgres://h2:6000/db?sslmode=require' },
    ]);
  });

  it('is none for a single host', () => {
    expect(multiHostUrls('postgres://u:p@db:5432/x?target_session_attrs=read-write')).toBeUndefined();
    expect(multiHostUrls('not a url')).toBeUndefined();
  });

  it('reads target_session_attrs as libpq does', () => {
    expect(wantsReadWrite('postgres://h1,h2/db?target_session_attrs=read-write')).toBe(true);
    expect(wantsReadWrite('postgres://h1,h2/db?a=1&target_session_attrs=primary')).toBe(true);
    expect(wantsReadWrite('postgres://h1,h2/db?target_session_attrs=any')).toBe(false);
    expect(wantsReadWrite('postgres://h1,h2/db')).toBe(false);
  });
});
