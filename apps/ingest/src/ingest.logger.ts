import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { DestinationStream, Logger } from 'pino';
import type { Options as HttpLogOptions } from 'pino-http';

// JSON lines on stdout (pino). Secrets are scrubbed from the finished line, not
// field by field: a password can hide in any error message or stack.

/** Shorter values are not treated as secrets: scrubbing them would mangle every line. */
const MIN_SECRET_LENGTH = 4;

/** The passwords of DATABASE_URL (userinfo or `?password=`) and KAFKA_SASL_PASSWORD. */
export function secretsOf(databaseUrl: string | undefined, saslPassword?: string): string[] {
  const secrets: string[] = [];
  if (databaseUrl) {
    try {
      const url = new URL(databaseUrl);
      // A password equal to the user name is printed anyway (redacted URLs keep the user): scrubbing it would only mangle lines.
      if (url.password !== url.username) secrets.push(url.password);
      secrets.push(url.searchParams.get('password') ?? '');
    } catch {
      // Not a URL: the config check refuses it, and its text is never logged.
    }
  }
  if (saslPassword) secrets.push(saslPassword);
  return secrets;
}

export function secretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return secretsOf(env.DATABASE_URL, env.KAFKA_SASL_PASSWORD);
}

/** Every spelling a secret may take in a log line: as given, URL-decoded and -encoded, JSON-escaped. */
function spellings(secret: string): string[] {
  const forms = new Set([secret]);
  try {
    forms.add(decodeURIComponent(secret));
  } catch {
    // not percent-encoded
  }
  for (const form of [...forms]) forms.add(encodeURIComponent(form));
  for (const form of [...forms]) forms.add(JSON.stringify(form).slice(1, -1));
  return [...forms];
}

/** A function replacing every spelling of each secret with `***`. */
export function scrubber(secrets: string[]): (text: string) => string {
  const forms = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(spellings))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => {
    for (const form of forms) if (text.includes(form)) text = text.split(form).join('***');
    return text;
  };
}

/** The app's pino logger: JSON lines at `level` on `destination` (stdout), with the secrets scrubbed. */
export function createIngestLogger(level: string, secrets: string[], destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  const scrub = scrubber(secrets);
  return pino(
    {
      name: 'ingest',
      level,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.sasl'], censor: '***' },
    },
    { write: (line: string) => destination.write(scrub(line)) },
  );
}

const PROBES = new Set(['/health', '/ready', '/metrics']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function path(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return (q === -1 ? url : url!.slice(0, q)) ?? '';
}

/** A request's id: the caller's `x-request-id` when it looks like one, else a new UUID. Fastify's `genReqId`; pino-http logs it. */
export function requestId(req: { headers: IncomingMessage['headers'] }): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * pino-http (through nestjs-pino) for the probe server: one line per request with
 * its id (Fastify's request id, see requestId). Probes are polled, so they log at debug.
 */
export function httpLogOptions(logger: Logger): HttpLogOptions {
  return {
    logger,
    genReqId: (req: IncomingMessage) => requestId(req),
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => {
      if (error || res.statusCode >= 500) return PROBES.has(path(req.url)) ? 'debug' : 'error';
      if (res.statusCode >= 400) return 'warn';
      return PROBES.has(path(req.url)) ? 'debug' : 'info';
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({ id: req.id, method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
