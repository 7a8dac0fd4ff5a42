import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Prefect from PyPI, in a virtualenv outside the repository, cached between runs.
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'artifact-read-model');

export const PREFECT_VERSION = '3.6.24';
export const PREFECT_VENV = join(CACHE, `prefect-${PREFECT_VERSION}-venv`);
/**
 * The pinned server and client. A plain `pip install prefect==3.6.24` resolves the newest
 * FastAPI, whose import breaks Prefect's server; FastAPI 0.136.3 with Starlette 1.3.1 is a
 * web stack it is known to start and serve with (the differential test, test/parity, runs it).
 */
export const PREFECT_REQUIREMENTS = [`prefect==${PREFECT_VERSION}`, 'fastapi==0.136.3', 'starlette==1.3.1'];

/** A virtualenv at `venv` holding `requirements`, created on first use; returns its bin directory. */
export function ensureVenv(venv: string, requirements: string[]): string {
  const bin = join(venv, 'bin');
  // Written last: an interrupted install is never taken for a finished one.
  const done = join(venv, 'installed');
  if (existsSync(done)) return bin;
  mkdirSync(CACHE, { recursive: true });
  rmSync(venv, { recursive: true, force: true });
  const python = process.env.PYTHON ?? 'python3';
  execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...requirements], { stdio: 'inherit', timeout: 900_000 });
  writeFileSync(done, requirements.join('\n') + '\n');
  return bin;
}

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
