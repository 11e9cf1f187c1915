import { sql } from 'kysely';
import pLimit from 'p-limit';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import type { Tenant, TenantPlan } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import type { Template } from '../../src/migrations/template.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';

export interface BenchDataSize {
  readonly projects: number;
  readonly deployments: number;
  readonly workflows: number;
}

/**
 * Creates `count` tenants (`bench_00001`, …) and fills each with bulk SQL.
 * Deployment URLs name their tenant (https://<slug>.bench/n), so a load run
 * can check that a response holds only the requested tenant's rows.
 */
export async function seedBenchTenants(
  database: Database,
  template: Template,
  options: { count: number; size: BenchDataSize; concurrency: number; plan?: TenantPlan; onProgress?: (done: number, total: number) => void },
): Promise<Tenant[]> {
  const limit = pLimit(options.concurrency);
  const tenants: Tenant[] = [];
  let done = 0;
  await Promise.all(
    Array.from({ length: options.count }, (_, i) =>
      limit(async () => {
        const slug = `bench_${String(i + 1).padStart(5, '0')}`;
        const { tenant } = await createTenant(database, template, { slug, plan: options.plan });
        await withTenantTransaction(database, tenant, {}, (db) => insertBenchRows(db, slug, options.size));
        tenants.push(tenant);
        options.onProgress?.(++done, options.count);
      }),
    ),
  );
  return tenants.sort((a, b) => a.slug.localeCompare(b.slug));
}

async function insertBenchRows(db: Parameters<Parameters<typeof withTenantTransaction>[3]>[0], slug: string, size: BenchDataSize): Promise<void> {
  const host = `${slug.replaceAll('_', '-')}.bench`;
  await sql`INSERT INTO projects (name) SELECT 'project ' || i FROM generate_series(1, ${size.projects}) i`.execute(db);
  await sql`
    INSERT INTO deployments (project_id, status, environment, url, created_at)
    SELECT p.ids[1 + i % ${size.projects}],
           (ARRAY['active','archived','failed','active','archived'])[1 + i % 5],
           (ARRAY['production','staging','preview'])[1 + i % 3],
           'https://' || ${host} || '/' || i,
           timestamptz '2026-01-01' + i * interval '17 minutes'
    FROM generate_series(1, ${size.deployments}) i, (SELECT array_agg(id ORDER BY name) AS ids FROM projects) p`.execute(db);
  await sql`
    INSERT INTO workflows (name, status, config)
    SELECT 'workflow ' || i, (ARRAY['active','paused','disabled'])[1 + i % 3], jsonb_build_object('step', i)
    FROM generate_series(1, ${size.workflows}) i`.execute(db);
}
