import { UUID_SEGMENT } from './routes';
import { createQueryMetrics, routePattern } from './metrics';

// The Grafana dashboard (ops/grafana) queries these names and labels.
describe('query app metrics', () => {
  it('exports the request histogram and the pool gauge the dashboard uses', async () => {
    const { registry, duration } = createQueryMetrics(() => ({ in_use: 2, idle: 3, waiting: 1 }));
    duration.observe({ method: 'POST', route: '/api/artifacts/latest/filter', status_code: '200' }, 0.002);
    const text = await registry.metrics();
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.0025",method="POST",route="/api/artifacts/latest/filter",status_code="200"} 1');
    expect(text).toContain('query_db_pool_connections{state="in_use"} 2');
    expect(text).toContain('query_db_pool_connections{state="idle"} 3');
    expect(text).toContain('query_db_pool_connections{state="waiting"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });
});

describe('the route label', () => {
  it('is the route pattern, without the regular expressions of its parameters', () => {
    expect(routePattern(`/api/artifacts/:id(^${UUID_SEGMENT}$)`)).toBe('/api/artifacts/:id');
    expect(routePattern('/api/artifacts/:key/latest')).toBe('/api/artifacts/:key/latest');
    expect(routePattern('/x/:a(\\d+(?:-\\d+)?)/:b([a-z]+)')).toBe('/x/:a/:b');
    expect(routePattern('/api/artifacts/filter')).toBe('/api/artifacts/filter');
    expect(routePattern(undefined)).toBe('unrouted');
  });
});
