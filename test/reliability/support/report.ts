import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Each reliability test prints its figures and leaves them in
// test-artifacts/reliability/<test>.json (git-ignored), for RELIABILITY.md.
const DIR = join(__dirname, '..', '..', '..', 'test-artifacts', 'reliability');

export function report(test: string, figures: Record<string, unknown>, details: string[] = []): void {
  const line = Object.entries(figures)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  process.stderr.write(`\n[reliability] ${test}: ${line}\n${details.map((d) => `  ${d}\n`).join('')}`);
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, `${test.replace(/\W+/g, '-')}.json`), `${JSON.stringify({ test, at: new Date().toISOString(), ...figures, details }, null, 2)}\n`);
}
