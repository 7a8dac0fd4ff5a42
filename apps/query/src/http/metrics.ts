import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type PoolStats = () => { in_use: number; idle: number; waiting: number };
export type ReadPools = () => Array<{ name: string; role: string; state: string; replayLagBytes: number; replayLagSeconds: number }>;

const READ_POOL_STATES = ['up', 'lagging', 'down', 'unknown'] as const;

/** The query app's registry: process metrics, request durations by route template and status, the pools and the standbys' lag. */
export function createQueryMetrics(poolStats: PoolStats, readPools: ReadPools = () => []): { registry: Registry; duration: Histogram<'method' | 'route' | 'status_code'> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'query_db_pool_connections',
    help: 'PostgreSQL pool connections by state (in_use, idle, waiting for a connection)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = poolStats();
      for (const state of ['in_use', 'idle', 'waiting'] as const) this.set({ state }, stats[state]);
    },
  });
  new Gauge({
    name: 'query_db_read_pool_state',
    help: 'Each PostgreSQL read pool (the primary and every DATABASE_READ_URLS standby): 1 for its current state',
    labelNames: ['pool', 'role', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of readPools()) for (const state of READ_POOL_STATES) this.set({ pool: p.name, role: p.role, state }, p.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'query_db_replay_lag_bytes',
    help: 'WAL a read pool has received but not replayed yet (0 on the primary)',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of readPools()) this.set({ pool: p.name }, p.replayLagBytes);
    },
  });
  new Gauge({
    name: 'query_db_replay_lag_seconds',
    help: 'Age of the last transaction a read pool replayed while it is behind (0 when caught up, and on the primary)',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of readPools()) this.set({ pool: p.name }, p.replayLagSeconds);
    },
  });
  return { registry, duration };
}

/**
 * The route a request matched, as its pattern: Fastify's url with each
 * parameter's regular expression dropped (`/api/artifacts/:id(^[0-9a-f]...$)`
 * is `/api/artifacts/:id`); `unrouted` when no route matched.
 */
export function routePattern(url: string | undefined): string {
  if (url === undefined) return 'unrouted';
  return url.replace(/:(\w+)\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)/g, ':$1');
}

/** GET /metrics (Prometheus text). */
export function registerMetrics(fastify: FastifyInstance, poolStats: PoolStats, readPools?: ReadPools): void {
  const { registry, duration } = createQueryMetrics(poolStats, readPools);
  fastify.addHook('onResponse', async (request, reply) => {
    const route = routePattern(request.routeOptions.url);
    duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  fastify.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
