import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/server/observability/metrics.js';

describe('metrics label cardinality', () => {
  it('beyond maxTenantLabels, tenants share the "other" label', async () => {
    const pool = new pg.Pool();
    const metrics = createMetrics({ pool, maxTenantLabels: 3 });
    for (let i = 0; i < 50; i++) metrics.observe({ tenant: `t${i}`, outcome: 'ok', durationMs: 3 });
    const text = await metrics.registry.metrics();
    const tenants = new Set([...text.matchAll(/schemata_requests_total\{tenant="([^"]+)"/g)].map((m) => m[1]));
    expect(tenants).toEqual(new Set(['t0', 't1', 't2', 'other']));
    expect(text).toContain('schemata_requests_total{tenant="other",outcome="ok"} 47');
    await pool.end();
  });
});
