import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenarios, scenarioFiles } from './support/conformance';

// A clone with nothing beside it must build, test and run: no tracked file may read or
// cite a path outside the repository, and the conformance scenarios live inside it.
const root = join(__dirname, '..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && !f.startsWith('test/conformance/scenarios/') && f !== 'package-lock.json' && !/\.(png|jpe?g|ico)$/.test(f));
const text = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('the repository stands alone', () => {
  it('no tracked file names the shared folder beside the clone', () => {
    const outside = /\.\.\/shared\b|(?<![\w.-])shared\/(spec|notes|conformance|hooks)\b|'\.\.', '\.\.', '\.\.', 'shared'/;
    const offenders = tracked.filter((f) => outside.test(text(f)));
    expect(offenders).toEqual([]);
  });

  it('every docs/*.md that a file cites exists in the repository', () => {
    const files = new Set(tracked);
    const missing = tracked.flatMap((f) => [...text(f).matchAll(/\bdocs\/[\w.-]+\.md\b/g)].map((m) => m[0]).filter((doc) => !files.has(doc)).map((doc) => `${f}: ${doc}`));
    expect(missing).toEqual([]);
  });

  it('every conformance scenario file is in the repository and holds scenarios with requests', () => {
    const files = scenarioFiles();
    expect(files).toEqual(
      ['artifact_by_id', 'artifacts_count', 'artifacts_filter', 'flow_deployment_filters', 'latest_by_key', 'latest_count', 'latest_filter', 'lifecycle', 'parity', 'run_filters', 'validation'].map((f) => `${f}.json`),
    );
    const inRepository = execFileSync('git', ['ls-files', 'test/conformance/scenarios'], { cwd: root, encoding: 'utf8' }).split('\n');
    for (const file of files) {
      expect(inRepository).toContain(`test/conformance/scenarios/${file}`);
      const scenarios = loadScenarios(file);
      expect(scenarios.length).toBeGreaterThan(0);
      for (const s of scenarios) expect(s.requests.length).toBeGreaterThan(0);
    }
  });
});
