import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The alerting rules of ops/prometheus/alerts.yml, run by Prometheus's own rule
// tester against the series in alerts.test.yml: each alert fires when it should,
// with its labels and annotations, and stays silent on the look-alike case.
// promtool comes with Debian's `prometheus` package (.ci/run installs it).

const DIR = join(__dirname, '..', '..', 'ops', 'prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run promtool (${result.error.message}): install it with \`apt-get install -y prometheus\`, as .ci/run does`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('alerting rules', () => {
  it('are valid rules', () => {
    const check = promtool('check', 'rules', 'alerts.yml');
    expect([check.status, check.output]).toEqual([0, expect.stringContaining('SUCCESS: 7 rules found')]);
  });

  it('pass their promtool unit tests', () => {
    const test = promtool('test', 'rules', 'alerts.test.yml');
    expect([test.status, test.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});
