import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { IngestMetrics } from './ingest.metrics';

// The Grafana dashboard (ops/grafana/dashboards) must only query series that the
// apps export. Ingest names come from an IngestMetrics registry; the query app is
// not ours, so the names it must export for this dashboard are kept here (and in
// the README, "Operating it") as the contract between the two.

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Family {
  type: string;
  labels: string[];
}

/** Exported by apps/query besides prom-client's default process metrics. */
// Mirrors apps/query/src/http/metrics.ts (its own spec checks the same names).
export const QUERY_APP_METRICS: Record<string, Family> = {
  http_request_duration_seconds: { type: 'histogram', labels: ['route', 'method', 'status_code'] },
  query_db_pool_connections: { type: 'gauge', labels: ['state'] },
};

/** Added by Prometheus itself to every target. */
const PROMETHEUS_SERIES: Record<string, Family> = { up: { type: 'gauge', labels: [] } };
const TARGET_LABELS = ['job', 'instance'];

function families(registry: Registry): Record<string, Family> {
  const out: Record<string, Family> = {};
  for (const metric of registry.getMetricsAsArray()) {
    const m = metric as unknown as { name: string; labelNames?: string[]; constructor: { name: string } };
    out[m.name] = { type: m.constructor.name.toLowerCase(), labels: m.labelNames ?? [] };
  }
  return out;
}

/** Series names a family is exposed as, with the labels each carries. */
function series(families: Record<string, Family>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, { type, labels }] of Object.entries(families)) {
    if (type === 'histogram') {
      out.set(`${name}_bucket`, [...labels, 'le']);
      out.set(`${name}_sum`, labels);
      out.set(`${name}_count`, labels);
    } else if (type === 'summary') {
      out.set(name, [...labels, 'quantile']);
      out.set(`${name}_sum`, labels);
      out.set(`${name}_count`, labels);
    } else {
      out.set(name, labels);
    }
  }
  return out;
}

const FUNCTION_OR_KEYWORD = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool']);

interface Selector {
  name: string;
  labels: string[];
  job?: string;
}

/** The metric selectors of a PromQL expression (Grafana variables allowed): names and the labels they match on. */
export function selectors(expr: string): Selector[] {
  const text = expr
    .replace(/\$\{?\w+\}?/g, 'VAR')
    .replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[{}()]/g, ''))
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?(\d+(ms|[smhdwy]))+/g, ' ');
  const out: Selector[] = [];
  const withoutMatchers = text.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_, name: string | undefined, body: string) => {
    const labels = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
    const job = /\bjob\s*=\s*"([^"]*)"/.exec(body)?.[1];
    if (name) out.push({ name, labels, ...(job !== undefined ? { job } : {}) });
    return ' ';
  });
  const bare = withoutMatchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ');
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || FUNCTION_OR_KEYWORD.has(m[1]!) || m[1] === 'VAR') continue;
    out.push({ name: m[1]!, labels: [] });
  }
  return out;
}

/** Labels named in `by (...)` / `without (...)` clauses. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter((l) => l !== ''));
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(read('ops/grafana/dashboards/artifact-read-model.json')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; current?: { value: unknown } }[] };
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const expressions = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ where: `variable $${v.name}`, expr: String((v.query as { query?: string }).query ?? v.query).replace(/^label_values\((.*),\s*\w+\)$/, '$1') })),
];

const alerts = parseYaml(read('ops/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
const alertExpressions = alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

const ingest = series(families(new IngestMetrics().registry));
const defaults = new Registry();
collectDefaultMetrics({ register: defaults });
const query = series({ ...families(defaults), ...QUERY_APP_METRICS });
const prometheus = series(PROMETHEUS_SERIES);

describe('the Grafana dashboard only queries what the apps export', () => {
  it('parses PromQL selectors', () => {
    expect(selectors('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{job="query", status_code=~"5.."}[$__rate_interval])))')).toEqual([
      { name: 'x_bucket', labels: ['job', 'status_code'], job: 'query' },
    ]);
    expect(selectors('sum(up{job="ingest"}) / count(ingest_y) - time()').map((s) => s.name)).toEqual(['up', 'ingest_y']);
    expect(selectors('sum by (state) (z{topic=~"$topic"})')).toEqual([{ name: 'z', labels: ['topic'] }]);
    expect(selectors('max(a offset 5m) > b{x="1"} offset 1h30m').map((s) => s.name)).toEqual(['b', 'a']);
  });

  it.each([...expressions, ...alertExpressions].map((e) => [e.where, e.expr] as const))('%s: %s', (_, expr) => {
    const found = selectors(expr);
    expect(found.length).toBeGreaterThan(0);
    for (const selector of found) {
      const source = selector.job === 'query' ? [query, prometheus] : selector.job === 'ingest' ? [ingest, prometheus] : [ingest, query, prometheus];
      const labels = source.map((s) => s.get(selector.name)).find((l) => l !== undefined);
      if (labels === undefined) throw new Error(`${selector.name} is not exported by ${selector.job ?? 'either app'}`);
      for (const label of selector.labels) expect([...labels, ...TARGET_LABELS]).toContain(label);
    }
    const known = new Set([...found.flatMap((s) => [...(ingest.get(s.name) ?? []), ...(query.get(s.name) ?? [])]), ...TARGET_LABELS]);
    for (const label of groupingLabels(expr)) expect(known).toContain(label);
  });

  it('covers lag, freshness, throughput, dead letters, API latency and the database pool', () => {
    const used = new Set(expressions.flatMap((e) => selectors(e.expr).map((s) => s.name)));
    for (const name of [
      'ingest_consumer_lag_messages',
      'ingest_projection_freshness_seconds',
      'ingest_events_consumed_total',
      'ingest_events_applied_total',
      'ingest_events_dead_lettered_total',
      'ingest_batch_duration_seconds_bucket',
      'ingest_transaction_retries_total',
      'ingest_rebalances_total',
      'http_request_duration_seconds_bucket',
      'query_db_pool_connections',
      'process_resident_memory_bytes',
    ]) {
      expect(used).toContain(name);
    }
  });
});

describe('the dashboard, Grafana provisioning and Prometheus fit together', () => {
  it('selects jobs and instances through variables, never by a hard-coded job name', () => {
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['ingest_job', 'query_job', 'instance']));
    for (const { where, expr } of expressions.filter((e) => e.where.startsWith('panel'))) {
      expect([where, /\bjob\s*=~?\s*"(?!\$)/.test(expr)]).toEqual([where, false]);
      expect([where, expr.includes('instance=~"$instance"')]).toEqual([where, true]);
    }
  });

  it('Prometheus loads the alerting rules that docker-compose.yml mounts next to its configuration', () => {
    expect(read('ops/prometheus/prometheus.yml')).toMatch(/rule_files:\s*\n\s*- alerts\.yml/);
    expect(read('docker-compose.yml')).toContain('./ops/prometheus/alerts.yml:/etc/prometheus/alerts.yml');
    expect(alertExpressions.map((a) => a.where.slice(6)).sort()).toEqual(
      ['DeadLettersArriving', 'IngestDown', 'IngestLagGrowing', 'QueryDatabasePoolExhausted', 'QueryErrors', 'QueryLatencyHigh', 'ReadModelStale'].sort(),
    );
  });

  it('every panel and target uses the provisioned Prometheus through the datasource variable', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    const provisionedUid = /^\s*uid:\s*(\S+)\s*$/m.exec(read('ops/grafana/provisioning/datasources/prometheus.yml'))?.[1];
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: provisionedUid } });
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
    }
  });

  it('has unique panel ids and a stable uid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('artifact-read-model');
  });

  it('the provider reads the folder docker-compose.yml mounts the dashboards at', () => {
    const compose = read('docker-compose.yml');
    const mount = /\.\/ops\/grafana\/dashboards:([^:\s]+)/.exec(compose)?.[1];
    expect(mount).toBeDefined();
    expect(read('ops/grafana/provisioning/dashboards/artifact-read-model.yml')).toContain(`path: ${mount}`);
    expect(compose).toContain('./ops/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml');
  });

  it('Prometheus scrapes both apps by their compose service names and ports', () => {
    const config = read('ops/prometheus/prometheus.yml');
    expect(config).toMatch(/job_name: ingest[\s\S]*?names: \[ingest\][\s\S]*?port: 4201/);
    expect(config).toMatch(/job_name: query[\s\S]*?names: \[query\][\s\S]*?port: 4200/);
  });
});
