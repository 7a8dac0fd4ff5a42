import { LosslessNumber, stringify as losslessStringify } from 'lossless-json';
import { History } from './history';
import { Random } from './random';

// Seeded random requests over every artifact read route. Bodies follow the grammar of the
// real server's own OpenAPI document (every filter object, member and operator it
// declares), filled with values from the history so that filters select something, and
// a share of them is made hostile: wrong types, unknown members, odd datetimes, NaN,
// huge integers, invalid JSON, other content types.

export interface ParityRequest {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The route template, for classification. */
  route: string;
}

type Schema = Record<string, unknown>;
type OpenApi = { components: { schemas: Record<string, Schema> }; paths: Record<string, Record<string, Schema>> };

// Literals JSON cannot carry; placed as marker strings and swapped in after stringify.
const RAW = (token: string) => `@@RAW:${token}@@`;
const big = (text: string) => new LosslessNumber(text);

const HOSTILE_VALUES: unknown[] = [
  'abc', '', 123, 1.5, -1, true, false, [], {}, null, RAW('NaN'), RAW('Infinity'), RAW('-Infinity'), big('1e400'),
  big('99999999999999999999999'), big('9223372036854775808'), '2024-01-01', 'not-a-uuid', { bogus: 1 }, ['x', 1], '1', 'true', 'NaN',
];
const LIMITS = ['0', '1', '2', '3', '5', '10', '50', '199', '200', '201', '-1', '9223372036854775807', '9223372036854775808', '1.0', '5.5', '1e2', '1000000000000000000000'];
const OFFSETS = ['0', '1', '2', '5', '10', '100', '1000', '-1', '9223372036854775807', '9223372036854775808', '18446744073709551616', '2.0', '1e1'];
// Percent-encoded: a raw non-ASCII byte is not valid HTTP, and both servers reject it below the API.
const ODD_KEYS = [
  '%', 'a%', '%E9', '%C3', '%00', '%2F', '%20', 'a%20b', '%C3%A9', '%F0%9F%9A%80', '~', 'a+b', 'latest', 'filter', 'count', 'Sales-Report', 'SALES',
  'k;x', 'k:x', 'k@x', '%25', '%2e', '.', '..', 'a.b', '%FF%FE', '%u00e9', 'k%0A', 'a_b', 'x'.repeat(1000), '-', '0', '00',
];
const DATETIME_WORDS = ['now', 'today', 'yesterday', 'tomorrow', '12:00', '12:00:00', '2024-W01', '2024-W01-1', '20240101T120000Z', '20240101', '2024-01', '2024', '2024-01-01T12', '2024-001', '2024-01-01T12:00', '', 'not a date', '2024-13-01', '2024-02-30', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '2024-01-01T00:00:00+24:00', '2024-01-01T00:00:00-23:59', '1700000000', '2024-01-01T00:00:00.1234567Z', '2024-01-01t00:00:00z', '2024-01-01 00:00:00', ' 2024-01-01T00:00:00Z', 'P1D', 'T12:00'];

export class RequestGenerator {
  private readonly schemas: Record<string, Schema>;

  constructor(
    private readonly openapi: OpenApi,
    private readonly history: History,
    private readonly random: Random,
  ) {
    this.schemas = openapi.components.schemas;
  }

  next(): ParityRequest {
    const r = this.random.next();
    if (r < 0.26) return this.post('/api/artifacts/filter', '/artifacts/filter');
    if (r < 0.52) return this.post('/api/artifacts/latest/filter', '/artifacts/latest/filter');
    if (r < 0.62) return this.post('/api/artifacts/count', '/artifacts/count');
    if (r < 0.72) return this.post('/api/artifacts/latest/count', '/artifacts/latest/count');
    if (r < 0.8) return this.getId('GET');
    if (r < 0.9) return this.getKey('GET');
    if (r < 0.94) return this.random.chance(0.5) ? this.getId('HEAD') : this.getKey('HEAD');
    return this.misc();
  }

  // --- routes -------------------------------------------------------------------------

  private post(path: string, apiPath: string): ParityRequest {
    const route = `POST ${path}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const r = this.random.next();
    if (r < 0.04) return { method: 'POST', path, route, headers: {} }; // no body at all
    if (r < 0.1) {
      const body = this.random.pick(['[]', '"x"', '1', 'null', 'true', '{', '{"limit": 1,}', '{"sort":}', '', '[{"limit":1}]', '{"limit":1}{}', "{'limit': 1}", '{"limit": 01}']);
      return { method: 'POST', path, route, headers, body };
    }
    const content = (this.openapi.paths[apiPath]!.post!.requestBody as Schema).content as Record<string, Schema>;
    const schema = this.deref(content['application/json']!.schema as Schema);
    if (!schema.properties) throw new Error(`no body schema for ${apiPath} in Prefect's OpenAPI document`);
    const body = this.object(schema, [], 0);
    if (this.random.chance(0.25)) this.mutate(body, []);
    if (this.random.chance(0.03)) headers['content-type'] = this.random.pick(['text/plain', 'application/vnd.api+json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded']);
    if (this.random.chance(0.02)) delete headers['content-type'];
    if (this.random.chance(0.02)) headers['x-prefect-api-version'] = this.random.pick(['0.8.4', '0.7.0', 'abc', '1.2', '3.0.0']);
    return { method: 'POST', path, route, headers, body: this.stringify(body) };
  }

  private getId(method: 'GET' | 'HEAD'): ParityRequest {
    const h = this.history;
    const r = this.random.next();
    let id: string;
    if (r < 0.5) id = this.random.pick(h.artifactIds);
    else if (r < 0.6 && h.deletedArtifactIds.length > 0) id = this.random.pick(h.deletedArtifactIds);
    else if (r < 0.7) id = this.random.uuid();
    else if (r < 0.8) id = this.random.pick(h.artifactIds).toUpperCase();
    else if (r < 0.87) id = this.random.pick(h.artifactIds).replace(/-/g, '');
    else id = this.random.pick(['not-a-uuid', '123', `${this.random.pick(h.artifactIds)}x`, `{${this.random.pick(h.artifactIds)}}`, this.random.pick(h.artifactIds).replace(/-/g, '%2D'), `urn:uuid:${this.random.uuid()}`, this.random.pick(h.flowRunIds), '%00', 'latest']);
    return { method, path: `/api/artifacts/${id}`, route: `${method} /api/artifacts/{id}`, headers: {} };
  }

  private getKey(method: 'GET' | 'HEAD'): ParityRequest {
    const h = this.history;
    const r = this.random.next();
    let segment: string;
    if (r < 0.5) segment = encodeURIComponent(this.random.pick(h.keys));
    else if (r < 0.6 && h.deletedKeys.length > 0) segment = encodeURIComponent(this.random.pick(h.deletedKeys));
    else if (r < 0.7) segment = encodeURIComponent(this.random.pick(['no-such-key', 'ünïcode', 'a b', '数据', 'x'.repeat(this.random.int(95, 110)), 'k'.repeat(this.random.int(200, 400))]));
    else segment = this.random.pick(ODD_KEYS);
    return { method, path: `/api/artifacts/${segment}/latest`, route: `${method} /api/artifacts/{key}/latest`, headers: {} };
  }

  private misc(): ParityRequest {
    const h = this.history;
    const choices: ParityRequest[] = [
      { method: 'GET', path: '/api/artifacts/filter', route: 'GET /api/artifacts/filter', headers: {} },
      { method: 'GET', path: '/api/artifacts/latest/count', route: 'GET /api/artifacts/latest/count', headers: {} },
      { method: 'HEAD', path: '/api/artifacts/latest/filter', route: 'HEAD /api/artifacts/latest/filter', headers: {} },
      { method: 'POST', path: '/api/artifacts/filter/', route: 'POST /api/artifacts/filter/', headers: { 'content-type': 'application/json' }, body: '{}' },
      { method: 'POST', path: '/api/artifacts/latest/count/', route: 'POST /api/artifacts/latest/count/', headers: { 'content-type': 'application/json' }, body: '{}' },
      { method: 'POST', path: `/api/artifacts/${this.random.pick(h.artifactIds)}`, route: 'POST /api/artifacts/{id}', headers: { 'content-type': 'application/json' }, body: '{}' },
      { method: 'GET', path: '/api/artifacts/latest', route: 'GET /api/artifacts/latest', headers: {} },
      { method: 'GET', path: '/api/artifacts//latest', route: 'GET /api/artifacts//latest', headers: {} },
      { method: 'GET', path: `/api/artifacts/${encodeURIComponent(this.random.pick(h.keys))}/latest/`, route: 'GET /api/artifacts/{key}/latest/', headers: {} },
      { method: 'GET', path: `/api/artifacts/${this.random.pick(h.artifactIds)}`, route: 'GET /api/artifacts/{id} (api version header)', headers: { 'x-prefect-api-version': this.random.pick(['0.8.4', '0.7.9', 'abc', '1.2', '0.8.0', '99.0.0']) } },
    ];
    return this.random.pick(choices);
  }

  // --- bodies from the OpenAPI schema -------------------------------------------------

  private deref(schema: Schema): Schema {
    let s = schema;
    while (typeof s.$ref === 'string') s = this.schemas[s.$ref.replace('#/components/schemas/', '')]!;
    if (Array.isArray(s.allOf) && s.allOf.length === 1) return this.deref(s.allOf[0] as Schema);
    return s;
  }

  private value(schema: Schema, path: string[], depth: number): unknown {
    const s = this.deref(schema);
    if (Array.isArray(s.anyOf)) {
      const variants = (s.anyOf as Schema[]).filter((v) => v.type !== 'null');
      if (variants.length < (s.anyOf as Schema[]).length && this.random.chance(0.06)) return null;
      return this.value(this.random.pick(variants), path, depth);
    }
    if (Array.isArray(s.enum)) return this.random.pick(s.enum as unknown[]);
    switch (s.type) {
      case 'object':
        return this.object(s, path, depth);
      case 'array':
        return Array.from({ length: this.random.pick([0, 1, 1, 2, 3]) }, () => this.value(s.items as Schema, path, depth + 1));
      case 'string':
        if (s.format === 'uuid') return this.uuidFor(path);
        if (s.format === 'date-time') return this.datetime();
        return this.stringFor(path);
      case 'integer':
        return big(this.random.pick(path[path.length - 1] === 'offset' ? OFFSETS.slice(0, 7) : path[path.length - 1] === 'limit' ? LIMITS.slice(0, 10) : ['0', '1', '3', '10']));
      case 'boolean':
        return this.random.chance(0.5);
      default:
        return this.random.pick(HOSTILE_VALUES);
    }
  }

  private object(schema: Schema, path: string[], depth: number): Record<string, unknown> {
    const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
    const out: Record<string, unknown> = {};
    if (depth > 4) return out;
    // Top level: a few members; inside filters: one or two, sometimes none (an empty filter).
    const p = path.length === 0 ? 0.35 : Math.min(0.9, 1.4 / Math.max(1, properties.length));
    for (const [name, member] of properties) {
      if (name === 'operator' ? this.random.chance(0.3) : this.random.chance(p)) out[name] = this.value(member, [...path, name], depth + 1);
    }
    if (path.length > 0 && Object.keys(out).length === 0 && properties.length > 0 && this.random.chance(0.8)) {
      const [name, member] = this.random.pick(properties);
      out[name] = this.value(member, [...path, name], depth + 1);
    }
    return out;
  }

  private uuidFor(path: string[]): string {
    const h = this.history;
    const member = path.filter((p) => !p.endsWith('_') || p === 'id_').slice(-1)[0] ?? '';
    const pools: Record<string, string[]> = {
      flow_run_id: h.flowRunIds,
      parent_flow_run_id: h.flowRunIds,
      task_run_id: h.taskRunIds,
      parent_task_run_id: h.taskRunIds,
      deployment_id: h.deploymentIds,
    };
    const entity: Record<string, string[]> = { artifacts: [...h.artifactIds, ...h.deletedArtifactIds], flow_runs: h.flowRunIds, task_runs: h.taskRunIds, flows: h.flowIds, deployments: h.deploymentIds };
    const pool = pools[member] ?? (member === 'id' || member === 'latest_id' ? entity[path[0] ?? ''] : undefined) ?? [];
    const r = this.random.next();
    if (pool.length === 0 || r < 0.12) return this.random.uuid();
    const id = this.random.pick(pool);
    if (r < 0.17) return id.toUpperCase();
    if (r < 0.2) return id.replace(/-/g, '');
    return id;
  }

  private stringFor(path: string[]): string {
    const h = this.history;
    const op = path[path.length - 1] ?? '';
    const member = path.filter((p) => !p.endsWith('_')).slice(-1)[0] ?? '';
    const parent = path.filter((p) => !p.endsWith('_')).slice(-2)[0] ?? '';
    let pool: string[];
    if (member === 'key') pool = [...h.keys, ...h.deletedKeys];
    else if (member === 'type' && path[0] === 'artifacts') pool = h.types;
    else if (member === 'name' && parent === 'state') pool = h.stateNames;
    else if (member === 'tags') pool = h.tags;
    else if (member === 'work_queue_name') pool = h.workQueueNames;
    else if (member === 'flow_version') pool = h.flowVersions;
    else if (member === 'idempotency_key') pool = h.idempotencyKeys;
    else if (member === 'created_by') pool = ['DEPLOYMENT', 'AUTOMATION', 'deployment'];
    else pool = h.names;
    if (pool.length === 0) pool = ['x'];
    const value = this.random.pick(pool);
    if (op === 'like_') {
      const r = this.random.next();
      if (r < 0.1) return '';
      const start = this.random.int(0, Math.max(0, value.length - 1));
      const piece = value.slice(start, start + this.random.int(1, 6));
      if (r < 0.25) return piece.toUpperCase();
      if (r < 0.35) return `${piece}%`;
      if (r < 0.45) return piece.replace(/./, '_');
      if (r < 0.5) return this.random.pick(['%', '_', '%%', '\\', "'", '[a-z]']);
      return piece;
    }
    const r = this.random.next();
    if (r < 0.1) return value.toUpperCase();
    if (r < 0.15) return this.random.pick(['', 'no-such-value', 'ünïcode', 'nul\u0000byte']);
    return value;
  }

  private datetime(): unknown {
    const r = this.random.next();
    if (r < 0.12) return this.random.pick(DATETIME_WORDS);
    const base = this.history.times.length > 0 ? Date.parse(this.random.pick(this.history.times)) : Date.now();
    const t = new Date(base + this.random.pick([0, 0, -1, 1, -1000, 1000, -60_000, 3_600_000, -86_400_000 * 400]));
    const iso = t.toISOString(); // 2026-12-02T08:25:25.361Z
    const micro = iso.replace('Z', `${this.random.int(0, 999).toString().padStart(3, '0')}Z`);
    const shift = (hours: number, mins: number) => {
      const local = new Date(t.getTime() + (hours * 60 + Math.sign(hours || 1) * mins) * 60_000).toISOString().slice(0, 23);
      const sign = hours < 0 ? '-' : '+';
      return `${local}${sign}${String(Math.abs(hours)).padStart(2, '0')}:${String(mins).padStart(2, '0')}`;
    };
    return this.random.pick([
      iso, micro, iso.replace('Z', '+00:00'), iso.replace('.', ',').replace('Z', ''), iso.slice(0, 19) + 'Z', iso.slice(0, 19), iso.slice(0, 10),
      shift(2, 0), shift(-5, 30), shift(14, 0), iso.replace('T', ' '), iso.slice(0, 16) + 'Z', iso.replace('Z', '-00:00'), iso.slice(0, 23),
      big(String(Math.floor(t.getTime() / 1000))), big(String(t.getTime() / 1000)),
    ]);
  }

  // --- hostile changes ---------------------------------------------------------------

  private mutate(body: Record<string, unknown>, path: string[]): void {
    // Walk to a random object node, then change one member of it.
    let node: Record<string, unknown> = body;
    for (;;) {
      const children = Object.entries(node).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof LosslessNumber));
      if (children.length === 0 || this.random.chance(0.35)) break;
      const [name, child] = this.random.pick(children);
      path.push(name);
      node = child as Record<string, unknown>;
    }
    const r = this.random.next();
    const members = Object.keys(node);
    if (r < 0.2 || members.length === 0) node[this.random.pick(['bogus', 'unknown_', 'Limit', 'like', 'any', 'exists'])] = this.random.pick(HOSTILE_VALUES);
    else if (r < 0.3 && path.length === 0) node[this.random.pick(['limit', 'offset'])] = this.random.pick([...HOSTILE_VALUES, ...[...LIMITS, ...OFFSETS].map(big)]);
    else if (r < 0.36 && path.length === 0) node.sort = this.random.pick(['created_desc', 'KEY', 'NAME_ASC', '', 1, null, 'ID_DESC']);
    else if (r < 0.42) node.operator = this.random.pick(['xor_', 'AND_', 'or', '', null, 1]);
    else {
      const name = this.random.pick(members);
      const current = node[name];
      node[name] = Array.isArray(current) && current.length > 0 && this.random.chance(0.5) ? [...current.slice(1), this.random.pick(HOSTILE_VALUES)] : this.random.pick([...HOSTILE_VALUES, this.random.pick(DATETIME_WORDS)]);
    }
  }

  private stringify(body: unknown): string {
    return losslessStringify(body)!.replace(/"@@RAW:([^@]+)@@"/g, '$1');
  }
}
