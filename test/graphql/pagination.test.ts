import { decodeGlobalID } from '@pothos/plugin-relay';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Page = {
  deployments: {
    totalCount: number;
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
  };
};

const PAGE = `query Page($first: Int, $last: Int, $after: String, $before: String, $order: CreatedOrder, $status: [DeploymentStatus!]) {
  deployments(first: $first, last: $last, after: $after, before: $before, orderBy: $order, filter: { status: $status }) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('cursor pagination', () => {
  let server: TestServer;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    server = await startTestServer();
    const template = await tenantTemplate();
    [tenant, other] = await Promise.all([seedTenant(server.database, template, 'page'), seedTenant(server.database, template, 'page_o')]);
    // 257 deployments whose created_at values collide in groups of five and
    // differ by single microseconds elsewhere: ties must be broken by id, and
    // microseconds must survive the cursor.
    await withTenantTransaction(server.database, tenant, {}, async (db) => {
      await sql`INSERT INTO projects (name) VALUES ('p')`.execute(db);
      await sql`
        INSERT INTO deployments (project_id, status, created_at)
        SELECT (SELECT id FROM projects), (ARRAY['active','failed','archived'])[1 + i % 3],
               timestamptz '2026-01-01' + (i / 5) * interval '1 second' + (i % 2) * interval '1 microsecond'
        FROM generate_series(1, 257) i`.execute(db);
    });
  });
  afterAll(() => server.close());

  async function allIds(status?: string[]): Promise<string[]> {
    return withTenantTransaction(server.database, tenant, { readOnly: true }, async (db) => {
      let query = db.selectFrom('deployments').select('id');
      if (status) query = query.where('status', 'in', status.map((s) => s.toLowerCase()) as never);
      return (await query.execute()).map((row) => row.id);
    });
  }

  async function page(variables: Record<string, unknown>): Promise<Page['deployments']> {
    const response = await server.graphql<Page>(tenant.slug, PAGE, variables);
    expect(response.body.errors).toBeUndefined();
    return response.body.data!.deployments;
  }

  it('walking every page, forwards or backwards, in either order, returns every row exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom('NEWEST_FIRST', 'OLDEST_FIRST'),
        fc.boolean(),
        fc.option(fc.subarray(['ACTIVE', 'FAILED', 'ARCHIVED'], { minLength: 1 }), { nil: undefined }),
        async (size, order, backwards, status) => {
          const seen: string[] = [];
          let cursor: string | undefined;
          let totalCount = -1;
          for (let guard = 0; guard < 300; guard++) {
            const result = backwards
              ? await page({ last: size, before: cursor, order, status })
              : await page({ first: size, after: cursor, order, status });
            totalCount = result.totalCount;
            const ids = result.edges.map((edge) => decodeGlobalID(edge.node.id).id);
            seen.push(...(backwards ? ids.reverse() : ids));
            const more = backwards ? result.pageInfo.hasPreviousPage : result.pageInfo.hasNextPage;
            if (!more) break;
            cursor = backwards ? result.pageInfo.startCursor : result.pageInfo.endCursor;
          }
          const expected = await allIds(status);
          expect(new Set(seen).size).toBe(seen.length);
          expect([...seen].sort()).toEqual([...expected].sort());
          expect(totalCount).toBe(expected.length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pages come in created_at order, with ties broken by id', async () => {
    const first = await page({ first: 100, order: 'OLDEST_FIRST' });
    const rows = await withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      db.selectFrom('deployments').select('id').orderBy('created_at', 'asc').orderBy('id', 'asc').limit(100).execute(),
    );
    expect(first.edges.map((edge) => decodeGlobalID(edge.node.id).id)).toEqual(rows.map((row) => row.id));
  });

  it('a malformed, tampered, foreign-list or foreign-tenant cursor gets INVALID_CURSOR naming the argument', async () => {
    const real = (await page({ first: 2 })).pageInfo.endCursor;
    const decoded = Buffer.from(real, 'base64url').toString();
    const tampered = Buffer.from(decoded.replace(/\|[^|]+$/, '|not-a-uuid')).toString('base64url');
    const otherList = Buffer.from(decoded.replace('|deployments|', '|workflows|')).toString('base64url');
    const sqlish = Buffer.from(`v1|deployments|${tenant.id}|2026-01-01T00:00:00.000000Z'); DROP TABLE users;--|x`).toString('base64url');

    for (const [cursor, message] of [
      ['garbage!', /not a cursor/],
      ['', /not a cursor/],
      [tampered, /not a cursor/],
      [sqlish, /not a cursor/],
      [otherList, /belongs to another list/],
    ] as const) {
      const response = await server.graphql(tenant.slug, PAGE, { first: 2, after: cursor });
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'INVALID_CURSOR', field: 'after' });
      expect(response.body.errors?.[0]?.message).toMatch(message);
    }
    const before = await server.graphql(tenant.slug, PAGE, { last: 2, before: 'nope' });
    expect(before.body.errors?.[0]?.extensions).toEqual({ code: 'INVALID_CURSOR', field: 'before' });

    const foreign = await server.graphql(other.slug, PAGE, { first: 2, after: real });
    expect(foreign.body.errors?.[0]?.extensions).toEqual({ code: 'INVALID_CURSOR', field: 'after' });
    expect(foreign.body.errors?.[0]?.message).toMatch(/belongs to another tenant/);
  });

  it('first is capped at 100 with an error that names it, and first with last is refused', async () => {
    const tooMany = await server.graphql(tenant.slug, PAGE, { first: 101 });
    expect(tooMany.body.errors?.[0]).toMatchObject({ message: 'first: must be between 0 and 100', extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
    const negative = await server.graphql(tenant.slug, PAGE, { last: -1 });
    expect(negative.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'last' });
    const both = await server.graphql(tenant.slug, PAGE, { first: 1, last: 1 });
    expect(both.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'last' });
    expect((await page({ first: 100 })).edges).toHaveLength(100);
    expect((await page({})).edges).toHaveLength(20);
  });
});
