// npm run infra -- up|down|status
// The local Kafka broker and PostgreSQL server, data under .data/ (persistent).
// `up` prints `export ...` lines on stdout (so `eval "$(npm run -s infra -- up)"` works);
// everything else goes to stderr. Ports: Kafka 9092 (controller 9093), PostgreSQL 5432,
// overridable with INFRA_KAFKA_PORT, INFRA_KAFKA_CONTROLLER_PORT, INFRA_POSTGRES_PORT (0 = any free port).
import * as path from 'node:path';
import { down, ServiceStatus, status, up } from '../infra/local';

const DIR = path.resolve(__dirname, '..', '.data');

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (0 = any free port), got "${raw}"`);
  return port;
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const result = await up({
        dir: DIR,
        persistent: true,
        kafkaPort: portFromEnv('INFRA_KAFKA_PORT', 9092),
        kafkaControllerPort: portFromEnv('INFRA_KAFKA_CONTROLLER_PORT', 9093),
        postgresPort: portFromEnv('INFRA_POSTGRES_PORT', 5432),
      });
      const { kafka, postgres } = result.started;
      const note = (reused: boolean): string => (reused ? 'already running' : 'started');
      if (!process.env.KAFKA_BROKERS && kafka) console.error(`kafka ${kafka.version}: ${note(result.reused.kafka)}, pid ${kafka.pid}, log ${kafka.logFile}`);
      if (!process.env.DATABASE_URL && postgres) console.error(`postgres: ${note(result.reused.postgres)}, pid ${postgres.pid ?? '?'}, log ${postgres.logFile}`);
      console.error(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`export KAFKA_BROKERS=${result.KAFKA_BROKERS}`);
      console.log(`export DATABASE_URL=${result.DATABASE_URL}`);
      return;
    }
    case 'down': {
      const stopped = await down(DIR);
      const what = [stopped?.kafka && `kafka (pid ${stopped.kafka.pid})`, stopped?.postgres && `postgres (pid ${stopped.postgres.pid ?? '?'})`].filter(Boolean);
      console.error(what.length ? `stopped ${what.join(', ')}` : 'nothing to stop');
      return;
    }
    case 'status': {
      const s = await status(DIR);
      const rows = [
        ['service', 'source', 'alive', 'pid', 'url', 'log'],
        ...Object.entries<ServiceStatus>({ ...s }).map(([name, x]) => [
          x.version ? `${name} ${x.version}` : name,
          x.source,
          x.source === 'none' ? '-' : x.alive ? 'yes' : 'NO',
          x.pid ? String(x.pid) : '-',
          x.url ?? '-',
          x.logFile ? path.relative(process.cwd(), x.logFile) : '-',
        ]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
      return;
    }
    default:
      throw new Error(`usage: npm run infra -- up|down|status (got ${command ?? 'nothing'})`);
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`infra: ${message.split('\n')[0]}`);
    process.exit(1);
  },
);
