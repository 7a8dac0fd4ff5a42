// npm run parity -- [--requests N] [--seed S]... [--history-seed H] [--operations K] [--concurrency C] [--findings file.md] [--json file.json] [--serve]
// The differential test against the real Prefect server, standalone: uses KAFKA_BROKERS and
// DATABASE_URL when set, else starts a throw-away Kafka and PostgreSQL (infra/local) and
// stops them at the end. Needs the built apps (the npm script builds them first).
// Prints the disagreement table; exits 1 on any disagreement outside the deliberate
// deviations (test/parity/deviations.ts), or a deviation where our answer is not the documented one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { down, up } from '../../infra/local';
import { startParity } from './support/harness';
import { failures, markdownReport } from './support/report';

function args(argv: string[]) {
  const out = { requests: 2000, seeds: [] as number[], historySeed: 12, operations: 480, concurrency: 4, findings: '', json: '', serve: false };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1] ?? '';
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${argv[i]} needs a non-negative integer, got "${value}"`);
      i++;
      return n;
    };
    switch (argv[i]) {
      case '--requests': out.requests = int(); break;
      case '--seed': out.seeds.push(int()); break;
      case '--history-seed': out.historySeed = int(); break;
      case '--operations': out.operations = int(); break;
      case '--concurrency': out.concurrency = Math.max(1, int()); break;
      case '--findings': out.findings = value; i++; break;
      case '--json': out.json = value; i++; break;
      case '--serve': out.serve = true; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (out.seeds.length === 0) out.seeds.push(1);
  return out;
}

async function main(): Promise<number> {
  const options = args(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`[parity] ${line}\n`);
  let infraDir: string | undefined;
  if (!process.env.KAFKA_BROKERS || !process.env.DATABASE_URL) {
    infraDir = mkdtempSync(join(tmpdir(), 'arm-parity-'));
    log('starting a throw-away Kafka and PostgreSQL');
    const started = await up({ dir: infraDir, persistent: false, kafkaPartitions: 3 });
    process.env.KAFKA_BROKERS ??= started.KAFKA_BROKERS;
    process.env.DATABASE_URL ??= started.DATABASE_URL;
  }
  try {
    const parity = await startParity({ historySeed: options.historySeed, operations: options.operations, log });
    try {
      if (options.serve) {
        // Both sides stay up with the history loaded, for probing by hand, until interrupted.
        process.stdout.write(`PREFECT=${parity.prefect.url}/api\nOURS=${parity.queryUrl}/api\n`);
        await new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, () => resolve())));
        return 0;
      }
      const results = [];
      for (const seed of options.seeds) {
        log(`seed ${seed}: ${options.requests} requests`);
        results.push(await parity.run(seed, options.requests, options.concurrency));
      }
      const report = `# Parity with Prefect 3.6.24 (real server, PostgreSQL)\n\n${new Date().toISOString()}; history seed ${options.historySeed}, ${options.operations} artifact operations.\n\n${markdownReport(results)}`;
      process.stdout.write(report + '\n');
      const json = options.json || join(tmpdir(), `parity-${options.seeds.join('-')}-${Date.now()}.json`);
      mkdirSync(dirname(json), { recursive: true });
      writeFileSync(json, JSON.stringify(results, null, 2));
      log(`results: ${json}`);
      if (options.findings) writeFileSync(options.findings, report);
      const failed = results.flatMap(failures);
      if (failed.length > 0) {
        log(`${failed.length} disagreement classes outside the deliberate deviations`);
        return 1;
      }
      return 0;
    } finally {
      await parity.close();
    }
  } finally {
    if (infraDir) {
      await down(infraDir);
      rmSync(infraDir, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[parity] ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
