import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up } from '../infra/local';

export const STATE_FILE = join(tmpdir(), `artifact-read-model-jest-${process.pid}.json`);

/** Starts a throw-away Kafka and PostgreSQL for whatever KAFKA_BROKERS / DATABASE_URL do not provide. */
export default async function globalSetup(): Promise<void> {
  // The specs start many short-lived Kafka brokers (the cluster and fault specs). Under load a
  // broker's JIT compilers take ~20 CPU seconds in its first minute (bench/README.md, issue #15);
  // with C1 alone a cluster spec ran in 43-56 s against 68-71 s. Every broker the tests start,
  // here or in a spec, inherits it; `npm run bench` keeps the JVM's defaults.
  process.env.KAFKA_OPTS ??= '-XX:TieredStopAtLevel=1';
  if (process.env.KAFKA_BROKERS && process.env.DATABASE_URL) return;
  const dir = mkdtempSync(join(tmpdir(), 'arm-test-'));
  const started = Date.now();
  const result = await up({ dir, persistent: false, kafkaPartitions: 3 });
  process.env.KAFKA_BROKERS = result.KAFKA_BROKERS;
  process.env.DATABASE_URL = result.DATABASE_URL;
  writeFileSync(STATE_FILE, JSON.stringify({ dir }));
  process.stderr.write(`\ntest infrastructure: Kafka ${result.KAFKA_BROKERS}, PostgreSQL ${result.DATABASE_URL} (${Date.now() - started} ms)\n`);
}
