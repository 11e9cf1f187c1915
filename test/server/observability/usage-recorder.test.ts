import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ControlDatabase, Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { UsageRecorder } from '../../../src/server/observability/usage-recorder.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

async function usageRows(database: Database, tenant: Tenant) {
  const result = await sql<{ day: string; requests: string; errors: string }>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, requests, errors FROM control.tenant_usage_daily WHERE tenant_id = ${tenant.id} ORDER BY day`.execute(database.control);
  return result.rows.map((row) => ({ day: row.day, requests: Number(row.requests), errors: Number(row.errors) }));
}

describe('the usage recorder', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());
  afterEach(() => vi.useRealTimers());

  it('files requests under the UTC day they were served, even when the flush comes after midnight', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'usage_day');
    const recorder = new UsageRecorder(database, { flushIntervalMs: 3_600_000 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T23:59:59.500Z'));
    recorder.record(tenant.id, false);
    recorder.record(tenant.id, true);
    vi.setSystemTime(new Date('2026-03-02T00:00:00.500Z'));
    recorder.record(tenant.id, false);
    await recorder.close();
    expect(await usageRows(database, tenant)).toEqual([
      { day: '2026-03-01', requests: 2, errors: 1 },
      { day: '2026-03-02', requests: 1, errors: 0 },
    ]);
  });

  it('keeps the counts of a failed flush for the next one: nothing lost, nothing counted twice', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'usage_retry');
    // A real pool aimed at a port where nothing listens, then the real database again.
    const deadPool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    let control: Kysely<ControlDatabase> = new Kysely<ControlDatabase>({ dialect: new PostgresDialect({ pool: deadPool }) });
    const switching = Object.defineProperty({ ...database }, 'control', { get: () => control }) as Database;
    const failures: unknown[] = [];
    const recorder = new UsageRecorder(switching, { flushIntervalMs: 3_600_000, onError: (error) => failures.push(error) });
    try {
      for (let i = 0; i < 3; i++) recorder.record(tenant.id, false);
      await recorder.flush();
      expect(failures).toHaveLength(1);
      recorder.record(tenant.id, true);
      control = database.control;
      await recorder.flush();
      await recorder.flush();
      const today = new Date().toISOString().slice(0, 10);
      expect(await usageRows(database, tenant)).toEqual([{ day: today, requests: 4, errors: 1 }]);
    } finally {
      await recorder.close();
      await deadPool.end();
    }
  });
});
