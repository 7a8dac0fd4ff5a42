import { pgConnectionString } from './connection-url';

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
