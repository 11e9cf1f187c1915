import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { parseGlobalId } from '../../../src/graphql/global-id.js';
import { HeavyOperationLane } from '../../../src/server/limits/heavy-operation-lane.js';
import { withTenantTransaction, type TenantScope } from '../../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

/** The hostile tester's document: 14 aliased nested lists under every row of a page, sized by a variable. */
function nestedAliases(first: string): string {
  const nested = Array.from({ length: 14 }, (_, i) => `a${i}: deployments${first} { edges { node { id url createdBy { email } } } }`).join(' ');
  return `query${first.includes('$n') ? '($n: Int)' : ''} { deployments${first} { edges { node { project { ${nested} } } } } }`;
}

const NESTED_PAGE = `query($first: Int!, $nested: Int!, $status: [DeploymentStatus!]) {
  deployments(first: $first) {
    edges { node { id project { id deployments(first: $nested, filter: { status: $status }) { totalCount edges { node { id project { id } } } } } } }
  }
}`;

interface NestedPage {
  deployments: { edges: { node: { id: string; project: { id: string; deployments: { totalCount: number; edges: { node: { id: string; project: { id: string } } }[] } } } }[] };
}

describe('the worst request a viewer may send', () => {
  let server: TestServer;
  let tenant: Tenant;
  let statements = 0;
  let checkouts = 0;
  let as: { token: string };

  beforeAll(async () => {
    server = await startTestServer({ databaseOptions: { onQuery: (text) => void (!text.includes('"control"') && statements++) } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'worst');
    // 4 projects with 6 deployments each, one second apart, two of each project's failed.
    await withTenantTransaction(server.database, tenant, {}, async (db) => {
      await sql`INSERT INTO projects (name) SELECT 'project ' || i FROM generate_series(1, 4) i`.execute(db);
      await sql`
        INSERT INTO deployments (project_id, status, created_at)
        SELECT p.id, CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'active' END, now() - (p.n * 10 + i) * interval '1 second'
        FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM projects) p, generate_series(1, 6) i`.execute(db);
    });
    as = { token: await server.tokenFor(tenant.slug, 'viewer') };
    server.database.pool.on('acquire', () => checkouts++);
    // Warm the registry and key caches, and show that the counters move for a request that reaches the database.
    const warm = await ask('{ projects(first: 1) { edges { node { id } } } }');
    expect(warm.body.errors).toBeUndefined();
    expect(warm.checkouts).toBeGreaterThan(0);
    expect(warm.statements).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await server.close();
  });

  const ask = async <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) => {
    const before = { statements, checkouts };
    const response = await server.graphql<T>(tenant.slug, query, variables, { as });
    return { ...response, statements: statements - before.statements, checkouts: checkouts - before.checkouts };
  };

  it('page sizes from variables count: the nested-alias document with $n = 100 is COST_LIMIT before any SQL', async () => {
    const response = await ask(nestedAliases('(first: $n)'), { n: 100 });
    expect(response.body.errors?.[0]?.extensions?.code, response.text.slice(0, 300)).toBe('COST_LIMIT');
    expect(response.status).toBe(400);
    expect(response.body.data ?? null).toBeNull();
    expect(response.statements).toBe(0);
    expect(response.checkouts).toBe(0);
  });

  it('a page size left out counts as the default page size (20), not as one row', async () => {
    const response = await ask(nestedAliases(''));
    expect(response.body.errors?.[0]?.extensions?.code, response.text.slice(0, 300)).toBe('COST_LIMIT');
    expect(response.checkouts).toBe(0);
  });

  it('the same document with small pages is allowed, so the limit measures size and not shape', async () => {
    const response = await ask(nestedAliases('(first: $n)'), { n: 2 });
    expect(response.body.errors, response.text.slice(0, 300)).toBeUndefined();
    const edges = (response.body.data as { deployments: { edges: { node: { project: Record<string, { edges: unknown[] }> } }[] } }).deployments.edges;
    expect(edges).toHaveLength(2);
    expect(edges[0]!.node.project.a13!.edges).toHaveLength(2);
  });

  it('a nested list costs one statement per level, not one per parent row, and each parent gets its own page', async () => {
    const response = await ask<NestedPage>(NESTED_PAGE, { first: 24, nested: 3 });
    expect(response.body.errors, response.text.slice(0, 300)).toBeUndefined();
    const edges = response.body.data!.deployments.edges;
    expect(edges).toHaveLength(24);
    // The page, then one batched statement for the 4 projects' nested pages (which also carry their totals).
    expect(response.statements).toBe(2);

    const expected = await withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      sql<{ project_id: string; ids: string[]; total: number }>`
        SELECT project_id, (array_agg(id ORDER BY created_at DESC, id DESC))[1:3] AS ids, count(*)::int AS total FROM deployments GROUP BY project_id`.execute(db),
    );
    const byProject = new Map(expected.rows.map((row) => [row.project_id, row]));
    expect(byProject.size).toBe(4);
    for (const { node } of edges) {
      const want = byProject.get(parseGlobalId('project', node.project.id, 'Project'))!;
      expect(node.project.deployments.totalCount).toBe(want.total);
      expect(node.project.deployments.edges.map((e) => parseGlobalId('deployment', e.node.id, 'Deployment'))).toEqual(want.ids);
      for (const nested of node.project.deployments.edges) expect(nested.node.project.id).toBe(node.project.id);
    }
  });

  it('nested pages with no rows get their totals from one batched count, not one count per parent', async () => {
    // Every project has failed deployments, so each filtered nested page has rows; a status none has gives empty pages.
    const empty = await ask<NestedPage>(NESTED_PAGE, { first: 24, nested: 3, status: ['BUILDING'] });
    expect(empty.body.errors, empty.text.slice(0, 300)).toBeUndefined();
    for (const { node } of empty.body.data!.deployments.edges) {
      expect(node.project.deployments.totalCount).toBe(0);
      expect(node.project.deployments.edges).toHaveLength(0);
    }
    expect(empty.statements).toBe(3);

    const failed = await ask<NestedPage>(NESTED_PAGE, { first: 24, nested: 5, status: ['FAILED'] });
    for (const { node } of failed.body.data!.deployments.edges) {
      expect(node.project.deployments.totalCount).toBe(2);
      expect(node.project.deployments.edges).toHaveLength(2);
    }
  });
});

describe('the ceiling on what one request reads', () => {
  let tenant: Tenant;
  let roomy: TestServer;
  let tight: TestServer;

  beforeAll(async () => {
    roomy = await startTestServer({ yoga: { statementLimits: { maxRows: 100 } } });
    tight = await startTestServer({ database: roomy.database, yoga: { statementLimits: { maxRows: 30 } } });
    tenant = await seedTenant(roomy.database, await tenantTemplate(), 'ceiling');
    await withTenantTransaction(roomy.database, tenant, {}, async (db) => {
      await sql`INSERT INTO projects (name) VALUES ('p')`.execute(db);
      await sql`INSERT INTO deployments (project_id) SELECT id FROM projects, generate_series(1, 50)`.execute(db);
    });
  });
  afterAll(async () => {
    await tight.close();
    await roomy.close();
    await roomy.database.close();
  });

  const PAGE = '{ a: deployments(first: 20) { edges { node { id } } } b: deployments(first: 20, orderBy: OLDEST_FIRST) { edges { node { id } } } }';

  it('past the row ceiling the whole answer is RESULT_TOO_LARGE, with no partial data', async () => {
    const response = await tight.graphql(tenant.slug, PAGE);
    expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['RESULT_TOO_LARGE']);
    expect(response.body.data ?? null).toBeNull();
    expect(response.text).not.toMatch(/select|deployments"/i);
  });

  it('the same request under a higher ceiling is answered in full (the control)', async () => {
    const response = await roomy.graphql<{ a: { edges: unknown[] }; b: { edges: unknown[] } }>(tenant.slug, PAGE);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.a.edges).toHaveLength(20);
    expect(response.body.data!.b.edges).toHaveLength(20);
  });

  it('the statement and byte ceilings refuse the same way', async () => {
    const statementsCapped = await startTestServer({ database: roomy.database, yoga: { statementLimits: { maxStatements: 1 } } });
    const bytesCapped = await startTestServer({ database: roomy.database, yoga: { statementLimits: { maxBytes: 8_000 } } });
    try {
      for (const server of [statementsCapped, bytesCapped]) {
        const response = await server.graphql(tenant.slug, PAGE);
        expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['RESULT_TOO_LARGE']);
      }
      // One list of 3 rows fits both.
      for (const server of [statementsCapped, bytesCapped]) {
        const response = await server.graphql(tenant.slug, '{ deployments(first: 3) { edges { node { id } } } }');
        expect(response.body.errors).toBeUndefined();
      }
    } finally {
      await statementsCapped.close();
      await bytesCapped.close();
    }
  });
});

describe('heavy operations of one tenant', () => {
  let server: TestServer;
  let tenant: Tenant;
  let inFlight = 0;
  let mostInFlight = 0;

  beforeAll(async () => {
    // The real tenant transaction, counted: how many of this tenant's operations hold one at once.
    const counted: TenantScope = async (database, scoped, options, work) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      try {
        return await withTenantTransaction(database, scoped, options, work);
      } finally {
        inFlight--;
      }
    };
    server = await startTestServer({ yoga: { tenantScope: counted } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'heavy');
  });
  afterAll(async () => {
    await server.close();
  });

  const concurrently = async (query: string) => {
    mostInFlight = 0;
    const responses = await Promise.all(Array.from({ length: 4 }, () => server.graphql(tenant.slug, query)));
    for (const response of responses) expect(response.body.errors, response.text.slice(0, 300)).toBeUndefined();
    return mostInFlight;
  };

  it('run one at a time, while light ones of the same tenant run side by side (the control)', async () => {
    const heavy = `{ ${Array.from({ length: 3 }, (_, i) => `d${i}: deployments(first: 100) { edges { node { id project { name } } } }`).join(' ')} }`;
    expect(await concurrently(heavy)).toBe(1);
    expect(await concurrently('{ deployments(first: 5) { edges { node { id } } } }')).toBeGreaterThan(1);
  });

  it('start no more than their cost budget a second: three of cost 603 under 700 a second begin about a second apart', async () => {
    const heavyStarts: number[] = [];
    const lightStarts: number[] = [];
    const timed =
      (starts: number[]): TenantScope =>
      (database, scoped, options, work) => (starts.push(performance.now()), withTenantTransaction(database, scoped, options, work));
    const lane = new HeavyOperationLane({ costPerSecond: 700 });
    // Two servers on one lane, so each one's transactions are told apart by the server they came through.
    const spaced = await startTestServer({ database: server.database, yoga: { tenantScope: timed(heavyStarts), heavyLane: lane } });
    const beside = await startTestServer({ database: server.database, yoga: { tenantScope: timed(lightStarts), heavyLane: lane } });
    try {
      const heavy = `{ ${Array.from({ length: 3 }, (_, i) => `d${i}: deployments(first: 100) { edges { node { id project { name } } } }`).join(' ')} }`;
      const heavyDone = Promise.all(Array.from({ length: 3 }, () => spaced.graphql(tenant.slug, heavy)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A light operation of the same tenant, sent while the heavy ones wait, does not queue behind them:
      // it begins before the second heavy one may (a window later). Order, not latency, so a stalled machine cannot fail it.
      expect((await beside.graphql(tenant.slug, '{ deployments(first: 5) { edges { node { id } } } }')).body.errors).toBeUndefined();
      const responses = await heavyDone;
      for (const response of responses) expect(response.body.errors).toBeUndefined();
      expect(heavyStarts).toHaveLength(3);
      expect(lightStarts).toHaveLength(1);
      expect(lightStarts[0]!).toBeLessThan(heavyStarts[1]!);
      // Fixed one-second windows: each heavy start waits for the next window.
      expect(heavyStarts[1]! - heavyStarts[0]!).toBeGreaterThan(500);
      expect(heavyStarts[2]! - heavyStarts[1]!).toBeGreaterThan(500);
    } finally {
      await spaced.close();
      await beside.close();
    }
  });

  it('a big scalar counts as the cost its field declares: two pages of 100 workflow configs are COST_LIMIT, one is not', async () => {
    const configs = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `w${i}: workflows(first: 100) { edges { node { config } } }`).join(' ')} }`;
    expect((await server.graphql(tenant.slug, configs(1))).body.errors).toBeUndefined();
    expect((await server.graphql(tenant.slug, configs(2))).body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT');
  });
});
