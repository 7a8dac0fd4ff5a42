// Small process, port and file helpers shared by kafka.ts, postgres.ts and index.ts.
import { spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const HOST = '127.0.0.1';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port from the environment (`npm run infra` and `stack`: INFRA_KAFKA_PORT, ...), `fallback` when unset; 0 means any free port. */
export function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (0 = any free port), got "${raw}"`);
  return port;
}

/** The first port of the kernel's ephemeral range (outgoing connections and `listen(0)` draw from it). */
function ephemeralStart(): number {
  try {
    const first = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 12_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, for a server started a little later. It is drawn at random
 * below the ephemeral range: a port the OS picked for `listen(0)` can be taken, before the server
 * binds it, by any outgoing connection's local end (Kafka once failed to start on such a port).
 * `avoid` excludes ports already chosen; a port is handed out once per process.
 */
export async function freePort(avoid: number[] = []): Promise<number> {
  const low = 10_000;
  const high = ephemeralStart();
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (avoid.includes(port) || handedOut.has(port)) continue;
    if (await isPortFree(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${low} and ${high} on ${HOST}`);
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** Throws a one-line error when something already listens on HOST:port. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  if (!(await isPortFree(port))) throw new Error(`port ${port} (${what}) is already in use on ${HOST}`);
}

/** True when a TCP connection to host:port is accepted within timeoutMs. */
export function portAnswers(port: number, timeoutMs = 1000, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    if (!Number.isInteger(port) || port <= 0 || !host) return resolve(false);
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Linux /proc view of a process, undefined elsewhere or when it is gone. */
function procFile(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number | undefined): pid is number {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procFile(pid, 'stat');
  return !stat || !/^\d+ \(.*\) Z/s.test(stat);
}

/**
 * True when pid is alive and its command line contains `marker` (guards against a pid
 * recorded before a reboot now belonging to another program). Without /proc: alive is enough.
 */
export function isProcessOf(pid: number | undefined, marker: string): pid is number {
  if (!isAlive(pid)) return false;
  const cmdline = procFile(pid, 'cmdline');
  return cmdline === undefined || cmdline.replace(/\0/g, ' ').includes(marker);
}

/** The processes whose parent is `pid` (Linux: /proc; elsewhere none). */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => Number(/^\d+ \(.*\) \S (\d+)/s.exec(procFile(child, 'stat') ?? '')?.[1]) === pid);
}

/** Resident set size in MiB (Linux only). */
export function rssMiB(pid: number): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(procFile(pid, 'status') ?? '');
  return match?.[1] ? Math.round(Number(match[1]) / 1024) : undefined;
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readPidFile(file: string): number | undefined {
  const pid = Number.parseInt(readText(file) ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Write via a temporary file and rename, so readers never see half a file. */
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/**
 * The JSON record a layer keeps in a folder of what it started there (state.json,
 * cluster.json, kafka.json, postgres.json), so that any later process can find and stop
 * exactly that. Written atomically; absent (or empty) reads as undefined.
 */
export function recordFile<T>(name: string) {
  const file = (dir: string): string => path.join(path.resolve(dir), name);
  return {
    read(dir: string): T | undefined {
      const text = readText(file(dir));
      return text ? (JSON.parse(text) as T) : undefined;
    },
    write(dir: string, record: T): void {
      writeFileAtomic(file(dir), `${JSON.stringify(record, null, 2)}\n`);
    },
    remove(dir: string): void {
      fs.rmSync(file(dir), { force: true });
    },
  };
}

/** The most telling line of a log or tool output: the last error-looking line, else the last line. */
export function lastErrorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /\b(ERROR|FATAL|PANIC)\b|Exception|Error:|error:/.test(l));
  const line = errors[errors.length - 1] ?? lines[lines.length - 1] ?? '(no output)';
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}

/** The last `bytes` of a file as text ('' when it does not exist). */
export function tailFile(file: string, bytes = 16384): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * Runs a command to completion and resolves with its combined output. Rejects with a
 * one-line Error: `<what> not found on PATH` or `<what> failed (exit N): <telling line>`.
 */
export function run(command: string, args: string[], what: string, options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-65536);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ENOENT' ? `${command} not found on PATH (needed for ${what})` : `${what}: ${err.message}`)),
    );
    child.once('close', (code, signal) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${lastErrorLine(output)}`)),
    );
  });
}
