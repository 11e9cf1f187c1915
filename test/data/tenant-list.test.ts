import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import type { Tenant } from '../../src/db/control-database.js';
import { deploymentList } from '../../src/data/deployments/deployment.repository.js';
import type { KeysetCursor, KeysetPage } from '../../src/data/keyset-page.js';
import { projectList } from '../../src/data/projects/project.repository.js';
import { userList } from '../../src/data/users/user.repository.js';
import { workflowList } from '../../src/data/workflows/workflow.repository.js';
import { withTenantTransaction, type TenantDb } from '../../src/tenancy/tenant-transaction.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

interface List<F> {
  readonly table: string;
  page(db: TenantDb, filter: F, page: KeysetPage, withCount: boolean): Promise<{ readonly id: string; readonly cursor_ts: string; readonly total_count?: string }[]>;
  count(db: TenantDb, filter: F): Promise<number>;
  findByIds(db: TenantDb, ids: readonly string[]): Promise<{ readonly id: string }[]>;
}

/** Walks the filter's rows two at a time and checks the pages, their totals, the count and the lookup by id against each other. */
async function expectAgreement<F>(db: TenantDb, list: List<F>, filter: F, expected: number): Promise<void> {
  const ids: string[] = [];
  const totals = new Set<number>();
  let after: KeysetCursor | undefined;
  for (;;) {
    const page: KeysetPage = { after, limit: 2, inverted: false, newestFirst: true };
    const rows = await list.page(db, filter, page, true);
    for (const row of rows) totals.add(Number(row.total_count));
    ids.push(...rows.map((row) => row.id));
    const last = rows.at(-1);
    if (!last) break;
    after = { createdAt: last.cursor_ts, id: last.id };
  }
  const count = await list.count(db, filter);
  expect({ table: list.table, rows: ids.length, distinct: new Set(ids).size, totals: [...totals], count }).toEqual({ table: list.table, rows: expected, distinct: expected, totals: [expected], count: expected });
  expect((await list.findByIds(db, ids)).map((row) => row.id).sort()).toEqual([...ids].sort());
}

describe('a list declared once', () => {
  let database: Database;
  let tenant: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    tenant = await seedTenant(database, await tenantTemplate(), 'lists');
    await withTenantTransaction(database, tenant, {}, async (db) => {
      await sql`INSERT INTO users (email, name, role) SELECT 'u' || i || '@x.example', CASE WHEN i % 3 = 0 THEN 'Ann_' || i ELSE 'Bob' || i END, CASE WHEN i % 2 = 0 THEN 'admin' ELSE 'viewer' END FROM generate_series(1, 9) i`.execute(db);
      await sql`INSERT INTO projects (name) SELECT CASE WHEN i % 2 = 0 THEN '50%_off ' || i ELSE 'plain ' || i END FROM generate_series(1, 7) i`.execute(db);
      await sql`INSERT INTO workflows (name, status) SELECT 'wf ' || i, CASE WHEN i % 3 = 0 THEN 'paused' ELSE 'active' END FROM generate_series(1, 8) i`.execute(db);
      await sql`INSERT INTO deployments (project_id, environment, status) SELECT p.id, CASE WHEN i % 2 = 0 THEN 'staging' ELSE 'production' END, 'active' FROM projects p, generate_series(1, 2) i`.execute(db);
    });
  });
  afterAll(() => database.close());

  it('pages, totals, count and lookup by id agree on the rows a filter selects, for every list', async () => {
    await withTenantTransaction(database, tenant, {}, async (db) => {
      await expectAgreement(db, userList, { search: 'ann_', role: 'admin' }, 1);
      await expectAgreement(db, projectList, { search: '%_' }, 3);
      await expectAgreement(db, workflowList, { statuses: ['paused'] }, 2);
      await expectAgreement(db, deploymentList, { environment: 'staging' }, 7);
    });
  });
});
