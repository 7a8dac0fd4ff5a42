// DATABASE_URL's sslmode means what libpq (psql, Prefect's own server, ...) makes of it.
// node-postgres 8 treats `require`, `prefer` and `verify-ca` as `verify-full` (checking the
// server certificate against Node's public CAs, so `sslmode=require` fails on a server with a
// private CA) and prints a SECURITY WARNING; its `uselibpqcompat=true` gives libpq's meaning:
//   require     TLS, the server certificate is not checked (with sslrootcert: as verify-ca)
//   verify-ca   TLS, the certificate must chain to sslrootcert
//   verify-full TLS, chain to sslrootcert (else Node's CAs) and the host name must match
//   disable     no TLS
const LIBPQ_SSL_MODES = new Set(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']);

/** The URL to give node-postgres: with `uselibpqcompat=true` added when it has a libpq `sslmode` and says nothing itself. */
export function pgConnectionString(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // the config check refuses it first; pg reports anything else
  }
  const mode = parsed.searchParams.get('sslmode');
  if (mode === null || !LIBPQ_SSL_MODES.has(mode) || parsed.searchParams.has('uselibpqcompat')) return url;
  return `${url}&uselibpqcompat=true`;
}
