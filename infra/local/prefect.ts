// Prefect 3.6.24 from PyPI in a cached virtualenv, and its server as users run it, for
// the differential test (test/parity), the client test and the bench's peer comparison.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './apps';
import { createDatabase } from './postgres';
import { CACHE, ensureVenv } from './venv';

export const PREFECT_VERSION = '3.6.24';
export const PREFECT_VENV = join(CACHE, `prefect-${PREFECT_VERSION}-venv`);
/**
 * The pinned server and client. A plain `pip install prefect==3.6.24` resolves the newest
 * FastAPI, whose import breaks Prefect's server; FastAPI 0.136.3 with Starlette 1.3.1 is a
 * web stack it is known to start and serve with (the differential test, test/parity, runs it).
 */
export const PREFECT_REQUIREMENTS = [`prefect==${PREFECT_VERSION}`, 'fastapi==0.136.3', 'starlette==1.3.1'];

/** The bin directory of the pinned Prefect (client, CLI and server). */
export function ensurePrefect(): string {
  return ensureVenv(PREFECT_VENV, PREFECT_REQUIREMENTS);
}

export function runPrefect(bin: string, args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(bin, args[0]!), args.slice(1), {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', COLUMNS: '200', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface PrefectServer {
  /** e.g. http://127.0.0.1:4321 (the REST API is under /api). */
  url: string;
  /** Its database (postgres://...), for changes made behind its back (the parity harness's collection ids, the bench's COPY load). */
  databaseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The real Prefect server as users run it in production: `prefect server start` on a
 * fresh PostgreSQL database of `serverUrl` (postgres://...), bound to 127.0.0.1, with
 * its UI, telemetry and background services off (none of them touches artifacts, and
 * the services would change runs behind the history's back: late runs, cancellation
 * cleanup, the database vacuum). `purpose` names its database and home directory.
 */
export async function startPrefectServer(serverUrl: string, purpose = 'parity'): Promise<PrefectServer> {
  const bin = ensurePrefect();
  const database = await createDatabase(serverUrl, `prefect_${purpose}_${process.pid}_${Date.now().toString(36)}`);
  const dbUrl = new URL(database.url);
  dbUrl.protocol = 'postgresql+asyncpg:';
  const home = mkdtempSync(join(tmpdir(), `prefect-${purpose}-home-`));
  const port = await freePort();
  const child = spawn(
    join(bin, 'prefect'),
    ['server', 'start', '--host', '127.0.0.1', '--port', String(port), '--no-ui', '--no-services', '--analytics-off', '--workers', '1'],
    {
      cwd: home,
      // Its own process group, so stop() reaches anything it forks.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        HOME: home,
        PREFECT_HOME: home,
        PREFECT_API_DATABASE_CONNECTION_URL: dbUrl.toString(),
        PREFECT_UI_ENABLED: 'false',
        PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
        PREFECT_SERVER_LOGGING_LEVEL: 'WARNING',
        PREFECT_LOGGING_LEVEL: 'WARNING',
        PYTHONUNBUFFERED: '1',
        NO_COLOR: '1',
        COLUMNS: '200',
      },
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
    await database.drop();
  };
  try {
    // Migrations of a fresh database run at start-up: minutes on a busy machine.
    await waitFor(
      'the Prefect server',
      async () => {
        if (child.exitCode !== null) throw new Error(`prefect server exited with ${child.exitCode}: ${output.slice(-3000)}`);
        const response = await fetch(`${url}/api/health`);
        await response.arrayBuffer();
        return response.status === 200 ? true : undefined;
      },
      600_000,
      500,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, databaseUrl: database.url, output: () => output, stop };
}
