// npm run infra -- up [--cluster]|down|status
// The local Kafka broker and PostgreSQL server, data under .data/ (persistent).
// `up` prints `export ...` lines on stdout (so `eval "$(npm run -s infra -- up)"` works);
// everything else goes to stderr. Ports: Kafka 9092 (controller 9093), PostgreSQL 5432,
// overridable with INFRA_KAFKA_PORT, INFRA_KAFKA_CONTROLLER_PORT, INFRA_POSTGRES_PORT (0 = any free port).
// `up --cluster`: 3 brokers on 9092/9094/9096 (controllers one above each) and a PostgreSQL
// primary on 5432 with standbys on 5433 and 5434 (the same variables move the bases), data under .data/cluster/.
import * as path from 'node:path';
import { clusterStatus, down, downCluster, ServiceStatus, status, up, upCluster } from '../infra/local';
import { portFromEnv } from '../infra/local/proc';

// INFRA_DATA_DIR: where the local infrastructure keeps its data and state (default .data in the repository).
const DIR = path.resolve(process.env.INFRA_DATA_DIR || path.join(__dirname, '..', '.data'));
const CLUSTER_DIR = path.join(DIR, 'cluster');

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

async function upClusterCommand(): Promise<void> {
  const started = Date.now();
  const { urls, state } = await upCluster({
    dir: CLUSTER_DIR,
    persistent: true,
    kafkaBasePort: portFromEnv('INFRA_KAFKA_PORT', 9092),
    postgresBasePort: portFromEnv('INFRA_POSTGRES_PORT', 5432),
  });
  for (const b of state.brokers) console.error(`kafka ${state.version} broker ${b.nodeId}: pid ${b.pid}, log ${b.logFile}`);
  for (const p of state.postgres) console.error(`postgres ${p.name}: port ${p.port}, log ${p.logFile}`);
  console.error(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [name, value] of Object.entries(urls)) console.log(`export ${name}=${value}`);
}

async function statusCluster(): Promise<void> {
  const s = await clusterStatus(CLUSTER_DIR);
  if (!s) return;
  console.log('');
  table([
    ['cluster member', 'alive', 'pid', 'port', 'role', 'replay lag'],
    ...s.brokers.map((b) => [`kafka broker ${b.nodeId}`, b.alive ? 'yes' : 'NO', b.alive ? String(b.pid) : '-', String(b.port), 'broker+controller', '-']),
    ...s.postgres.map((p) => [
      `postgres ${p.name}`,
      p.alive ? 'yes' : 'NO',
      '-',
      String(p.port),
      p.role ?? '-',
      p.role === 'standby' ? `${p.replayLagBytes} B, ${p.replayLagSeconds?.toFixed(1)} s${p.replayPaused ? ' (paused)' : ''}` : '-',
    ]),
  ]);
}

async function main(command: string | undefined, flags: string[]): Promise<void> {
  switch (command) {
    case 'up': {
      if (flags.includes('--cluster')) return upClusterCommand();
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
      const cluster = await downCluster(CLUSTER_DIR);
      const what = [
        stopped?.kafka && `kafka (pid ${stopped.kafka.pid})`,
        stopped?.postgres && `postgres (pid ${stopped.postgres.pid ?? '?'})`,
        cluster && `the cluster (${cluster.brokers.length} brokers, ${cluster.postgres.length} PostgreSQL servers)`,
      ].filter(Boolean);
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
      table(rows);
      return statusCluster();
    }
    default:
      throw new Error(`usage: npm run infra -- up [--cluster]|down|status (got ${command ?? 'nothing'})`);
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`infra: ${message.split('\n')[0]}`);
    process.exit(1);
  },
);
