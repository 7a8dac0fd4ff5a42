import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadIngestConfig } from '../../apps/ingest/src/ingest.config';
import { loadQueryConfig } from '../../apps/query/src/query.config';
import { readEnv } from '../../scripts/events/cli';

// docker-compose.yml and the Dockerfile, checked without a Docker engine: the
// services, their variables (parsed by the apps' own configuration code), health
// checks, start order, volumes, and that every `node dist/...` they run is an
// entry the build produces.

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semver = require('semver') as { minVersion(range: string): { version: string } | null; satisfies(version: string, range: string): boolean };

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  restart?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const dockerfile = read('Dockerfile');

/** What `npm run build` writes: Nest's apps (nest-cli.json) and the tools (scripts/build-tools.js). */
function builtEntries(): string[] {
  const nest = JSON.parse(read('nest-cli.json')) as { projects: Record<string, { type: string; entryFile: string }> };
  const apps = Object.entries(nest.projects)
    .filter(([, p]) => p.type === 'application')
    .map(([name, p]) => `dist/apps/${name}/${p.entryFile}.js`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { config } = require(join(ROOT, 'scripts', 'build-tools.js')) as { config: { entry: Record<string, string>; output: { path: string; filename: string } } };
  const tools = Object.keys(config.entry).map((name) => `${config.output.path.slice(ROOT.length + 1)}/${config.output.filename.replace('[name]', name)}`);
  return [...apps, ...tools];
}

describe('docker-compose.yml', () => {
  it('runs Kafka, PostgreSQL and both apps, Prometheus and Grafana on demand, and the tools from the app image', () => {
    const single = Object.keys(services).filter((name) => !services[name]!.profiles?.includes('cluster'));
    expect(single.sort()).toEqual(['events', 'grafana', 'ingest', 'kafka', 'postgres', 'prometheus', 'query', 'rebuild']);
    expect(services.prometheus!.profiles).toEqual(['observability']);
    expect(services.events!.profiles).toEqual(['tools']);
    for (const name of ['ingest', 'query', 'events', 'rebuild']) expect([name, services[name]!.image]).toEqual([name, 'artifact-read-model:latest']);
    for (const name of ['ingest', 'query']) expect(services[name]!.build).toBe('.');
  });

  it('restarts every long-running service, and starts each after what it needs is healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles?.includes('tools')) continue;
      expect([name, service.restart]).toEqual([name, 'unless-stopped']);
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect([name, dependency, condition]).toEqual([name, dependency, 'service_healthy']);
        expect(services[dependency]?.healthcheck).toBeDefined();
      }
    }
    expect(Object.keys(services.query!.depends_on ?? {}).sort()).toEqual(['ingest', 'postgres']);
    expect(Object.keys(services.ingest!.depends_on ?? {}).sort()).toEqual(['kafka', 'postgres']);
  });

  it('gives the apps a configuration their own code accepts, the query app the ingest URL', () => {
    const ingest = loadIngestConfig(services.ingest!.environment!);
    const query = loadQueryConfig(services.query!.environment!);
    expect(query.ingestUrl).toBe(`http://ingest:${ingest.port}`);
    expect(query.databaseUrl).toBe(ingest.databaseUrl);
    expect(ingest.brokers).toEqual(['kafka:9092']);
    expect(readEnv(services.events!.environment!)).toMatchObject({ brokers: ingest.brokers, artifactTopic: ingest.artifactTopic, runTopic: ingest.runTopic, ingestUrl: query.ingestUrl });
    expect(loadIngestConfig(services.rebuild!.environment!)).toMatchObject({ groupId: ingest.groupId, databaseUrl: ingest.databaseUrl });
    // The health checks probe the ports the apps listen on.
    expect(services.ingest!.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${ingest.port}/health`);
    expect(services.query!.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${query.port}/api/ready`);
  });

  it('keeps Kafka and PostgreSQL data on named volumes', () => {
    const kafkaDir = services.kafka!.environment!.KAFKA_LOG_DIRS;
    expect(services.kafka!.volumes).toContain(`kafkadata:${kafkaDir}`);
    expect(services.postgres!.volumes).toContain('pgdata:/var/lib/postgresql');
    expect(Object.keys(compose.volumes).sort()).toEqual(['kafka1data', 'kafka2data', 'kafka3data', 'kafkadata', 'pgdata', 'pgprimarydata', 'pgstandbydata']);
  });

  it('has a cluster profile shaped like infra up --cluster: 3 KRaft voters, a primary and a standby, 2 ingest and 2 query apps', () => {
    const cluster = Object.keys(services).filter((name) => services[name]!.profiles?.includes('cluster'));
    expect(cluster.sort()).toEqual(['ingest-1', 'ingest-2', 'kafka-1', 'kafka-2', 'kafka-3', 'pg-primary', 'pg-standby', 'query-1', 'query-2']);
    const brokers = ['kafka-1', 'kafka-2', 'kafka-3'].map((name) => services[name]!.environment!);
    expect(brokers.map((b) => String(b.KAFKA_NODE_ID))).toEqual(['1', '2', '3']);
    expect(new Set(brokers.map((b) => b.CLUSTER_ID)).size).toBe(1);
    for (const [i, b] of brokers.entries()) {
      expect(b.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
      expect(b.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://kafka-${i + 1}:9092`);
      // as infra/local/kafka.ts writes for a cluster of 3: internal topics 3 replicas, min ISR 2
      expect([String(b.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR), String(b.KAFKA_MIN_INSYNC_REPLICAS), String(b.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR)]).toEqual(['3', '2', '2']);
    }
    const ingests = ['ingest-1', 'ingest-2'].map((name) => loadIngestConfig(services[name]!.environment!));
    const queries = ['query-1', 'query-2'].map((name) => loadQueryConfig(services[name]!.environment!));
    for (const ingest of ingests) {
      expect(ingest.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9092']);
      expect(ingest.replicationFactor).toBe(3);
      expect(ingest.databaseUrl).toMatch(/@pg-primary:5432,pg-standby:5432\/artifacts\?target_session_attrs=read-write$/);
      expect(ingest.groupId).toBe(ingests[0]!.groupId);
    }
    for (const query of queries) {
      expect(query.readUrls).toEqual(['postgres://postgres:postgres@pg-standby:5432/artifacts']);
      expect(query.databaseUrl).toBe(ingests[0]!.databaseUrl);
      expect(query.groupId).toBe(ingests[0]!.groupId);
    }
    for (const name of cluster) {
      expect([name, services[name]!.healthcheck]).toEqual([name, expect.anything()]);
      expect([name, services[name]!.restart]).toEqual([name, 'unless-stopped']);
    }
    expect(services['pg-standby']!.command!.join(' ')).toContain('pg_basebackup -h pg-primary');
    expect(services['pg-standby']!.command!.join(' ')).toContain('-S standby_1');
    expect(services['pg-primary']!.command!.join(' ')).toContain("pg_create_physical_replication_slot('standby_1'");
  });

  it('runs only entries the build produces', () => {
    const entries = builtEntries();
    expect(entries.sort()).toEqual(['dist/apps/ingest/main.js', 'dist/apps/query/main.js', 'dist/tools/events.js', 'dist/tools/rebuild.js']);
    const run = Object.values(services).flatMap((s) => [...(s.entrypoint ?? []), ...(s.command ?? [])]).filter((arg) => arg.startsWith('dist/'));
    const cmd = /^CMD \[(.*)\]$/m.exec(dockerfile)![1]!;
    run.push(...(JSON.parse(`[${cmd}]`) as string[]).filter((arg) => arg.startsWith('dist/')));
    expect(new Set(run)).toEqual(new Set(entries));
    expect(read('package.json')).toMatch(/"build": "[^"]*node scripts\/build-tools\.js/);
  });
});

describe('Dockerfile', () => {
  it('builds with npm run build and ships dist/ with production dependencies only', () => {
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it("uses one Node for both stages, accepted by every dependency's engines", () => {
    const versions = [...dockerfile.matchAll(/^FROM node:(\d+)-\S+/gm)].map((m) => m[1]!);
    expect(versions).toHaveLength(2);
    expect(new Set(versions).size).toBe(1);
    const node = `${versions[0]}.0.0`;
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const refused = Object.entries(lock.packages)
      .map(([path, p]) => [path || 'the project', Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
      .filter(([, range]) => range !== undefined && semver.minVersion(range) !== null && !semver.satisfies(node, range))
      .map(([path, range]) => `${path} wants node ${range}`);
    expect(refused).toEqual([]);
  });
});
