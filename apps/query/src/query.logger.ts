import pino, { DestinationStream, Logger } from 'pino';

/**
 * The query app's pino logger: JSON lines on stdout from the first one, with
 * `name: "query"` as the ingest app's carry `name: "ingest"`, so both can be told
 * apart in one log stream. Authorization and cookies never reach a line.
 */
export function createQueryLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  return pino({ name: 'query', level, redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '***' } }, destination);
}
