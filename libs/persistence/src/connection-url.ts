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

export interface HostPort {
  host: string;
  port: number;
}

/**
 * The hosts of a libpq multi-host URL (`postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`),
 * in order, each with the URL naming it alone; undefined for a URL with one host (or none, or not a URL).
 */
export function multiHostUrls(url: string): Array<HostPort & { url: string }> | undefined {
  const match = /^(postgres(?:ql)?:\/\/(?:[^@/?]*@)?)([^/?]*)(.*)$/.exec(url);
  if (!match || !match[2]!.includes(',')) return undefined;
  const [, head, hosts, tail] = match as unknown as [string, string, string, string];
  return hosts.split(',').map((entry) => {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const plain = /^([^:]*)(?::(\d+))?$/.exec(entry);
    const host = bracketed?.[1] ?? plain?.[1] ?? entry;
    const port = Number(bracketed?.[2] ?? plain?.[2] ?? 5432);
    return { host, port, url: `${head}${entry.includes(':') || !entry ? entry : `${entry}:5432`}${tail.replace(/([?&])target_session_attrs=[^&]*&?/, '$1').replace(/[?&]$/, '')}` };
  });
}

/** libpq's target_session_attrs of a URL: whether only a server accepting writes will do. */
export function wantsReadWrite(url: string): boolean {
  return /[?&]target_session_attrs=(read-write|primary)(&|$)/.test(url);
}
