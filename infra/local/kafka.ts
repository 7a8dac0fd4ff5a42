// A real single-node Kafka broker (KRaft, combined broker+controller) on 127.0.0.1,
// run with the machine's java from jars Maven fetches from Maven Central into a cache
// outside the repository. Recipe: docs/kafka-local.md.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  HOST,
  assertPortFree,
  freePort,
  isAlive,
  isProcessOf,
  lastErrorLine,
  portAnswers,
  readPidFile,
  recordFile,
  readText,
  run,
  sleep,
  tailFile,
} from './proc';

const KAFKA_DIR = path.resolve(__dirname, '..', 'kafka');
const POM_4 = path.join(KAFKA_DIR, 'pom.xml');
const POM_3 = path.join(KAFKA_DIR, 'pom-3.9.xml');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
const MAIN_CLASS = 'kafka.Kafka';

export interface KafkaStartOptions {
  dataDir: string;
  /** PLAINTEXT port; 0 or undefined picks a free one. */
  port?: number;
  /** CONTROLLER port; 0 or undefined picks a free one. */
  controllerPort?: number;
  /** Defaults to env KAFKA_VERSION, then the pom.xml property. */
  version?: string;
  /** Broker `num.partitions` (only used by CreateTopics without a count); default 1. */
  partitions?: number;
  /**
   * More listeners on 127.0.0.1 next to PLAINTEXT (which stays the inter-broker listener and
   * the readiness check), e.g. `{ name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' }`; port 0 or
   * undefined picks a free one. Their settings (`listener.name.<name>.*`, `ssl.*`) go in `config`.
   */
  listeners?: ExtraListener[];
  /** More server.properties lines, appended as given. */
  config?: string[];
  /** StorageTool `--add-scram` values, e.g. `SCRAM-SHA-256=[name=alice,password=secret]`; applied when the storage is formatted. */
  scramCredentials?: string[];
  /** Membership of a multi-broker cluster (startKafkaCluster); alone, the broker is node 1 of a 1-voter quorum. */
  cluster?: ClusterMembership;
}

export interface ClusterMembership {
  nodeId: number;
  /** `controller.quorum.voters`, e.g. `1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097`. */
  voters: string;
  /** The same for every member: their storage is formatted with it. */
  clusterId: string;
  /** Replication factor (and min ISR 2 when 3 or more) of the internal topics and the broker default. */
  replicas: number;
}

export interface ExtraListener {
  name: string;
  protocol: 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  port?: number;
}

export interface KafkaHandle {
  brokers: string;
  pid: number;
  logFile: string;
  port: number;
  controllerPort: number;
  version: string;
  /** From spawning the broker JVM to describeCluster() answering. */
  readyMs: number;
  /** Name → port of the extra listeners (KafkaStartOptions.listeners). */
  listenerPorts: Record<string, number>;
}

/** What startKafka leaves in <dataDir>/kafka.json. */
interface KafkaRecord {
  version: string;
  port: number;
  controllerPort: number;
  pid: number;
  /** The class-data archive this broker writes when it exits (see classDataSharing). */
  archiveDump?: { tmp: string; archive: string; lock: string };
}

const RECORD = recordFile<KafkaRecord>('kafka.json');

/** The default Kafka version: the `kafka.version` property of infra/kafka/pom.xml. */
export function defaultKafkaVersion(): string {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(fs.readFileSync(POM_4, 'utf8'));
  if (!match?.[1]) throw new Error(`no <kafka.version> property in ${POM_4}`);
  return match[1];
}

/** version argument, else env KAFKA_VERSION, else the pom.xml default. */
export function resolveKafkaVersion(version?: string): string {
  const v = version || process.env.KAFKA_VERSION || defaultKafkaVersion();
  if (!/^\d+\.\d+\.\d+[\w.-]*$/.test(v)) throw new Error(`invalid Kafka version "${v}" (expected e.g. 4.4.0 or 3.9.2)`);
  return v;
}

const isKafka3 = (version: string): boolean => version.startsWith('3.');

function cacheDir(version: string): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kafka-local', version);
}

/**
 * Makes sure the broker classpath of `version` is in the cache and returns its libs dir
 * (`${XDG_CACHE_HOME:-~/.cache}/kafka-local/<version>/libs`). The `.complete` marker holds
 * a hash of the POM, so an edited POM refetches; otherwise later calls return at once.
 */
export async function ensureKafkaJars(version?: string): Promise<string> {
  const v = resolveKafkaVersion(version);
  const pom = isKafka3(v) ? POM_3 : POM_4;
  const dir = cacheDir(v);
  const libs = path.join(dir, 'libs');
  const marker = path.join(dir, '.complete');
  const stamp = createHash('sha256').update(fs.readFileSync(pom)).digest('hex');
  const ready = (): boolean => readText(marker)?.trim() === stamp && fs.existsSync(path.join(libs, `kafka_2.13-${v}.jar`));
  if (ready()) return libs;

  process.stderr.write(`kafka-local: fetching Kafka ${v} jars from Maven Central into ${libs} (first time only)...\n`);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `libs.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await run(
      'mvn',
      ['-B', '-q', '-f', pom, `-Dkafka.version=${v}`, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`],
      `fetching the Kafka ${v} jars with Maven`,
    );
    if (!fs.existsSync(path.join(tmp, `kafka_2.13-${v}.jar`))) throw new Error(`Maven did not produce kafka_2.13-${v}.jar in ${tmp}`);
    if (!ready()) {
      // another process may have finished the same download meanwhile; either copy is fine
      fs.rmSync(libs, { recursive: true, force: true });
      fs.renameSync(tmp, libs);
      fs.writeFileSync(marker, `${stamp}\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return libs;
}

/** The first `java` on PATH, resolved, with its modification time: what a class-data archive was made by. */
function javaIdentity(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      const real = fs.realpathSync(path.join(dir, 'java'));
      return `${real}@${fs.statSync(real).mtimeMs}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * JVM options for class-data sharing (AppCDS). A broker start loads and verifies some 9,000
 * classes, about half of its start-up CPU (2.0 -> 1.1 CPU s to ready, measured 2026-12-05), and
 * the tests start dozens of brokers. The archive is made once per Kafka version and JVM, in the
 * jar cache: a broker started while there is none writes one when it exits by SIGTERM
 * (`-XX:ArchiveClassesAtExit`), one broker at a time (a lock file), and stopKafka moves it into
 * place. A tool's JVM (`mayWrite` false: StorageTool) only uses it. The JVM checks an archive
 * against its classpath and itself and runs without it when they differ. KAFKA_OPTS naming
 * -Xshare or an archive of its own turns this off.
 */
function classDataSharing(version: string, libs: string, mayWrite = true): { args: string[]; dump?: KafkaRecord['archiveDump'] } {
  const opts = process.env.KAFKA_OPTS ?? '';
  const java = javaIdentity();
  if (!java || /-Xshare|SharedArchiveFile|ArchiveClassesAtExit/.test(opts)) return { args: [] };
  const key = createHash('sha256').update(`${java}\n${readText(path.join(path.dirname(libs), '.complete')) ?? ''}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir(version), 'cds');
  const archive = path.join(dir, `broker-${key}.jsa`);
  if (fs.existsSync(archive)) return { args: [`-XX:SharedArchiveFile=${archive}`] };
  if (!mayWrite) return { args: [] };
  fs.mkdirSync(dir, { recursive: true });
  const lock = `${archive}.lock`;
  const holder = Number.parseInt(readText(lock) ?? '', 10);
  if (holder && isAlive(holder)) return { args: [] };
  fs.rmSync(lock, { force: true });
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    return { args: [] }; // another start took the lock just now
  }
  const tmp = `${archive}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  return { args: [`-XX:ArchiveClassesAtExit=${tmp}`], dump: { tmp, archive, lock } };
}

/** After a broker's exit: its class-data archive into place if it wrote a whole one (a clean exit), else away. */
function settleArchiveDump(dump: KafkaRecord['archiveDump'], clean: boolean): void {
  if (!dump) return;
  try {
    if (clean && (fs.statSync(dump.tmp, { throwIfNoEntry: false })?.size ?? 0) > 0 && !fs.existsSync(dump.archive)) fs.renameSync(dump.tmp, dump.archive);
  } finally {
    fs.rmSync(dump.tmp, { force: true });
    fs.rmSync(dump.lock, { force: true });
  }
}

function serverProperties(logDir: string, port: number, controllerPort: number, partitions: number, version: string, extra: Required<ExtraListener>[], config: string[], cluster: ClusterMembership): string {
  const rf = cluster.replicas;
  const minIsr = rf >= 3 ? 2 : 1;
  const listeners = extra.map((l) => `,${l.name}://${HOST}:${l.port}`).join('');
  const protocols = extra.map((l) => `,${l.name}:${l.protocol}`).join('');
  const lines = [
    '# written by infra/local/kafka.ts at every start; edits are lost',
    'process.roles=broker,controller',
    `node.id=${cluster.nodeId}`,
    // static quorum: the same file formats and runs on 3.9 and 4.x (format without --standalone)
    `controller.quorum.voters=${cluster.voters}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}${listeners}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}${listeners}`,
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${protocols}`,
    `log.dirs=${logDir}`,
    // internal topics ask for no more replicas than the cluster has brokers
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=1',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=1',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    // fast, deterministic tests
    'group.initial.rebalance.delay.ms=0',
    `num.partitions=${partitions}`,
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'log.cleaner.dedupe.buffer.size=2097152',
    // light footprint on 2 cores
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
  ];
  if (!isKafka3(version)) {
    lines.push(`share.coordinator.state.topic.replication.factor=${rf}`, `share.coordinator.state.topic.min.isr=${minIsr}`);
  }
  lines.push(...config);
  return `${lines.join('\n')}\n`;
}

function javaBaseArgs(libs: string, version: string): string[] {
  const logConfig = isKafka3(version)
    ? `-Dlog4j.configuration=file:${path.join(KAFKA_DIR, 'log4j.properties')}`
    : `-Dlog4j2.configurationFile=${path.join(KAFKA_DIR, 'log4j2.yaml')}`;
  return [
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:MaxInlineLevel=15',
    '-Djava.awt.headless=true',
    // KAFKA_OPTS, as in Kafka's own scripts: more JVM options, after ours (a later flag wins).
    ...(process.env.KAFKA_OPTS ?? '').split(/\s+/).filter(Boolean),
    logConfig,
    '-cp',
    path.join(libs, '*'),
  ];
}

/** A random KRaft cluster id. StorageTool's argument parser takes an id starting with '-' for an option: draw again. */
export function newClusterId(): string {
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  return clusterId;
}

const compareVersions = (a: string, b: string): number => {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/**
 * Formats (first time) and starts a broker from `dataDir`, detached in its own process
 * group, and resolves once it accepts connections and answers describeCluster().
 * Files in dataDir: server.properties, kafka.log, kafka.pid, kafka.json, data/ (log.dirs).
 */
export async function startKafka(opts: KafkaStartOptions): Promise<KafkaHandle> {
  const version = resolveKafkaVersion(opts.version);
  const dataDir = path.resolve(opts.dataDir);
  const pidFile = path.join(dataDir, 'kafka.pid');
  const logDir = path.join(dataDir, 'data');
  const logFile = path.join(dataDir, 'kafka.log');
  const propsFile = path.join(dataDir, 'server.properties');

  const running = readPidFile(pidFile);
  if (isProcessOf(running, MAIN_CLASS)) throw new Error(`Kafka already runs from ${dataDir} (pid ${running}); stop it first`);
  const previous = RECORD.read(dataDir);
  if (previous && fs.existsSync(logDir) && compareVersions(version, previous.version) < 0) {
    throw new Error(`${logDir} holds Kafka ${previous.version} data, which Kafka ${version} cannot read; delete ${dataDir} to start afresh`);
  }

  const port = opts.port || (await freePort());
  const controllerPort = opts.controllerPort || (await freePort([port]));
  if (port === controllerPort) throw new Error(`Kafka port and controller port must differ (both ${port})`);
  if (opts.port) await assertPortFree(port, 'Kafka');
  if (opts.controllerPort) await assertPortFree(controllerPort, 'Kafka controller');
  const extra: Required<ExtraListener>[] = [];
  for (const listener of opts.listeners ?? []) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(listener.name) || ['PLAINTEXT', 'CONTROLLER'].includes(listener.name)) throw new Error(`invalid extra Kafka listener name "${listener.name}"`);
    const listenerPort = listener.port || (await freePort([port, controllerPort, ...extra.map((l) => l.port)]));
    if (listener.port) await assertPortFree(listenerPort, `Kafka listener ${listener.name}`);
    extra.push({ ...listener, port: listenerPort });
  }

  const libs = await ensureKafkaJars(version);
  fs.mkdirSync(logDir, { recursive: true });
  const cluster = opts.cluster ?? { nodeId: 1, voters: `1@${HOST}:${controllerPort}`, clusterId: newClusterId(), replicas: 1 };
  fs.writeFileSync(propsFile, serverProperties(logDir, port, controllerPort, opts.partitions ?? 1, version, extra, opts.config ?? [], cluster));
  const base = javaBaseArgs(libs, version);

  // Format once. A formatted dir is left alone: 4.x StorageTool fails even with
  // --ignore-formatted when -t differs from the stored cluster.id, and it costs a JVM start.
  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    await run('java', ['-Xmx256m', ...classDataSharing(version, libs, false).args, ...base, 'kafka.tools.StorageTool', 'format', '-t', cluster.clusterId, '-c', propsFile, '--ignore-formatted', ...(opts.scramCredentials ?? []).flatMap((c) => ['--add-scram', c])], `formatting Kafka ${version} storage in ${logDir}`);
  }

  fs.appendFileSync(logFile, `\n===== ${new Date().toISOString()} starting Kafka ${version} on ${HOST}:${port} =====\n`);
  const out = fs.openSync(logFile, 'a');
  const spawnedAt = Date.now();
  const cds = classDataSharing(version, libs);
  const child = spawn('java', ['-Xms256m', '-Xmx1g', ...cds.args, ...base, MAIN_CLASS, propsFile], {
    cwd: dataDir,
    detached: true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  child.once('error', (err: NodeJS.ErrnoException) => (exited = err.code === 'ENOENT' ? 'java not found on PATH (Kafka needs Java 17+)' : err.message));
  child.unref();
  const pid = child.pid;
  if (!pid) {
    await sleep(50);
    throw new Error(`could not start the Kafka broker: ${exited ?? 'no pid'}`);
  }
  fs.writeFileSync(pidFile, `${pid}\n`);
  if (cds.dump) fs.writeFileSync(cds.dump.lock, `${pid}\n`); // held while the writing broker lives
  RECORD.write(dataDir, { version, port, controllerPort, pid, ...(cds.dump ? { archiveDump: cds.dump } : {}) });

  const fail = async (why: string): Promise<never> => {
    await stopKafka(dataDir);
    fs.rmSync(pidFile, { force: true });
    const logLine = lastErrorLine(tailFile(logFile).split('=====').pop() ?? '');
    throw new Error(`Kafka ${version} ${why}: ${logLine} (log: ${logFile})`);
  };

  // A TCP connect to the PLAINTEXT port means ready (the acceptor opens only once the broker is unfenced).
  for (;;) {
    if (exited) return fail(`exited during start-up (${exited})`);
    if (await portAnswers(port, 500)) break;
    if (Date.now() - spawnedAt > READY_TIMEOUT_MS) return fail(`did not accept connections on ${HOST}:${port} within ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
  const brokers = `${HOST}:${port}`;
  const admin = new Kafka({ clientId: 'infra-local', brokers: [brokers], logLevel: logLevel.NOTHING, connectionTimeout: 3000 }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    return fail(`accepted connections but describeCluster() failed (${(err as Error).message})`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  child.removeAllListeners('exit');
  const listenerPorts = Object.fromEntries(extra.map((l) => [l.name, l.port]));
  return { brokers, pid, logFile, port, controllerPort, version, readyMs: Date.now() - spawnedAt, listenerPorts };
}

/**
 * Stops a broker given its pid or its dataDir (reads kafka.pid): SIGTERM to its process
 * group (controlled shutdown), SIGKILL after 20 s. Does nothing when it is not running.
 */
export async function stopKafka(pidOrDataDir: number | string): Promise<void> {
  const pidFile = typeof pidOrDataDir === 'string' ? path.join(path.resolve(pidOrDataDir), 'kafka.pid') : undefined;
  const pid = pidFile ? readPidFile(pidFile) : (pidOrDataDir as number);
  if (isProcessOf(pid, MAIN_CLASS)) {
    const started = Date.now();
    let how = 'SIGTERM';
    signalGroup(pid, 'SIGTERM');
    while (isAlive(pid) && Date.now() - started < STOP_TIMEOUT_MS) await sleep(100);
    if (isAlive(pid)) {
      how = `SIGKILL after ${STOP_TIMEOUT_MS / 1000} s`;
      signalGroup(pid, 'SIGKILL');
      while (isAlive(pid) && Date.now() - started < STOP_TIMEOUT_MS + 5000) await sleep(100);
    }
    if (pidFile) fs.appendFileSync(path.join(path.dirname(pidFile), 'kafka.log'), `===== ${new Date().toISOString()} stopped pid ${pid} (${how}, ${Date.now() - started} ms) =====\n`);
    if (pidFile) settleArchiveDump(RECORD.read(path.dirname(pidFile))?.archiveDump, how === 'SIGTERM' && !isAlive(pid));
  }
  if (pidFile) fs.rmSync(pidFile, { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
