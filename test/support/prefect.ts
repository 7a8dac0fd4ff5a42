import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Prefect from PyPI, in a virtualenv outside the repository, cached between runs.
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'artifact-read-model');
export const PREFECT_VENV = join(CACHE, 'prefect-venv');
const PREFECT_SPEC = 'prefect>=3.6,<4';

export function ensurePrefect(): string {
  const bin = join(PREFECT_VENV, 'bin');
  if (!existsSync(join(bin, 'prefect'))) {
    mkdirSync(CACHE, { recursive: true });
    const python = process.env.PYTHON ?? 'python3';
    execFileSync(python, ['-m', 'venv', PREFECT_VENV], { stdio: 'inherit' });
    execFileSync(join(bin, 'pip'), ['install', '-q', PREFECT_SPEC], { stdio: 'inherit', timeout: 600_000 });
  }
  return bin;
}

export function runPrefect(bin: string, args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(bin, args[0]!), args.slice(1), {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', COLUMNS: '200', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
