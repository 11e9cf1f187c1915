import { randomBytes } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/auth/password-hash.js';
import type { PlanFeature, Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { readStorageBytes } from '../../../src/data/stats/tenant-storage.repository.js';
import { createTenantRateLimiter } from '../../../src/server/limits/tenant-rate-limiter.js';
import { TenantStorageMeter } from '../../../src/server/limits/tenant-storage-meter.js';
import { rateLimiterSettings } from '../../../src/server/services.js';
import { insertDemoData } from '../../../src/seed/demo-data.repository.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { eventually } from '../../helpers/eventually.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../../helpers/test-server.js';

type Limits = { maxUsers?: number | null; maxStorageBytes?: number | null; requestsPerMinute?: number; requestsPerDay?: number | null; features?: PlanFeature[] };

/** Plans are data: each test makes its own row, so changing it disturbs no other test. */
async function insertPlan(database: Database, limits: Limits = {}): Promise<string> {
  const name = `q_${randomBytes(4).toString('hex')}`;
  await database.control
    .insertInto('control.plans')
    .values({
      name,
      max_users: limits.maxUsers ?? null,
      max_storage_bytes: limits.maxStorageBytes ?? null,
      requests_per_minute: limits.requestsPerMinute ?? 1_000,
      requests_per_day: limits.requestsPerDay ?? null,
      features: limits.features ?? ['workflows'],
    })
    .execute();
  return name;
}

const codeOf = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;
const INVITE = 'mutation($email: EmailAddress!) { inviteUser(input: { email: $email, name: "New", role: VIEWER }) { email } }';
const WORKFLOWS = '{ workflows(first: 5) { totalCount edges { node { id name } } } }';

describe('plans and quotas', () => {
  let server: TestServer;
  let database: Database;

  beforeAll(async () => {
    // A long cache lifetime: a plan change must reach cached answers by invalidation, not by expiry.
    server = await startTestServer({ yoga: { mailer: { send: async () => undefined }, config: testConfig({ responseCacheTtlMs: 60_000 }) } });
    database = server.database;
  });
  afterAll(() => server.close());

  const newTenant = async (plan: string, prefix = 'quota') => seedTenant(database, await tenantTemplate(), prefix, { plan });
  const countUsers = (tenant: Tenant) =>
    withTenantTransaction(database, tenant, { readOnly: true }, async (db) => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM users`.execute(db)).rows[0]!.n));

  it('a basic tenant asking for workflows gets FEATURE_NOT_IN_PLAN naming the feature and the plan; a premium tenant gets its workflows', async () => {
    const [basic, premium] = await Promise.all([newTenant('basic', 'q_basic'), newTenant('premium', 'q_prem')]);
    // A downgraded tenant keeps its rows; the plan only hides them.
    for (const tenant of [basic, premium]) {
      await withTenantTransaction(database, tenant, {}, (db) => sql`INSERT INTO workflows (name) VALUES ('nightly')`.execute(db));
    }

    const refused = await server.graphql(basic.slug, WORKFLOWS, {}, { as: 'viewer' });
    expect(refused.status).toBe(200);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        message: 'workflows are not in this tenant\'s plan "basic": change to a plan that includes workflows',
        path: ['workflows'],
        extensions: { code: 'FEATURE_NOT_IN_PLAN', feature: 'workflows', plan: 'basic' },
      }),
    ]);
    const create = await server.graphql(basic.slug, 'mutation { createWorkflow(input: { name: "x" }) { id } }');
    expect(codeOf(create)).toBe('FEATURE_NOT_IN_PLAN');
    expect(await withTenantTransaction(database, basic, { readOnly: true }, (db) => db.selectFrom('workflows').select('name').execute())).toEqual([{ name: 'nightly' }]);
    // Nor does the node lookup reach a workflow by id.
    const id = await withTenantTransaction(database, basic, { readOnly: true }, async (db) => (await db.selectFrom('workflows').select('id').executeTakeFirstOrThrow()).id);
    const node = await server.graphql(basic.slug, 'query($id: ID!) { node(id: $id) { ... on Workflow { name } } }', { id: encodeGlobalID('Workflow', id) });
    expect(codeOf(node)).toBe('FEATURE_NOT_IN_PLAN');
    expect(JSON.stringify(node.body.data ?? null)).not.toContain('nightly');

    // A client can see what its plan includes instead of probing for errors.
    const limits = '{ tenant { plan limits { features maxUsers maxStorageBytes requestsPerMinute requestsPerDay } } }';
    expect((await server.graphql(basic.slug, limits, {}, { as: 'viewer' })).body.data).toEqual({
      tenant: { plan: 'basic', limits: { features: [], maxUsers: 25, maxStorageBytes: 1024 ** 3, requestsPerMinute: 600, requestsPerDay: 100_000 } },
    });
    expect((await server.graphql<{ tenant: { limits: { features: string[] } } }>(premium.slug, limits, {}, { as: 'viewer' })).body.data!.tenant.limits.features).toEqual([
      'workflows',
    ]);

    const served = await server.graphql<{ workflows: { totalCount: number } }>(premium.slug, WORKFLOWS, {}, { as: 'viewer' });
    expect(served.body.errors).toBeUndefined();
    expect(served.body.data!.workflows.totalCount).toBe(1);
    const created = await server.graphql(premium.slug, 'mutation { createWorkflow(input: { name: "y" }) { name } }');
    expect(created.body).toEqual({ data: { createWorkflow: { name: 'y' } } });
  });

  it('an invitation past maxUsers gets QUOTA_EXCEEDED naming maxUsers, and no user is created', async () => {
    const tenant = await newTenant(await insertPlan(database, { maxUsers: 2 }));
    for (const email of ['one@quota.example', 'two@quota.example']) {
      expect((await server.graphql(tenant.slug, INVITE, { email })).body.errors).toBeUndefined();
    }
    const refused = await server.graphql(tenant.slug, INVITE, { email: 'three@quota.example' });
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/has 2 users and its plan "q_[0-9a-f]+" allows 2 \(maxUsers\)/),
      extensions: { code: 'QUOTA_EXCEEDED', limit: 'maxUsers', max: 2, current: 2 },
    });
    expect(await countUsers(tenant)).toBe(2);
  });

  it('concurrent invitations cannot take more seats than the plan has', async () => {
    const tenant = await newTenant(await insertPlan(database, { maxUsers: 3 }));
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => server.graphql(tenant.slug, INVITE, { email: `u${i}@race.example` })));
    const codes = responses.map((r) => codeOf(r) ?? 'OK').sort();
    expect(codes).toEqual(['OK', 'OK', 'OK', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
    expect(await countUsers(tenant)).toBe(3);
  });

  it('the tenant role measures its own schema, as the server login role does', async () => {
    const tenant = await newTenant('basic');
    const asTenant = await withTenantTransaction(database, tenant, { readOnly: true }, (db) => readStorageBytes(db, database));
    const asServer = await sql<{ bytes: string }>`
      SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${tenant.schema_name} AND c.relkind IN ('r', 'p')`.execute(database.control);
    expect(asTenant).toBeGreaterThan(0);
    expect(asTenant).toBe(Number(asServer.rows[0]!.bytes));
  });

  it('a tenant over maxStorageBytes cannot write, but can still read, delete and sign in', async () => {
    // Smaller than any schema, so the tenant is over it from the start.
    const tenant = await newTenant(await insertPlan(database, { maxStorageBytes: 1024 }));
    const hash = await hashPassword('correct horse battery');
    const workflowId = await withTenantTransaction(database, tenant, {}, async (db) => {
      await db.insertInto('users').values({ email: 'ada@full.example', name: 'Ada', role: 'admin', password_hash: hash }).execute();
      return (await db.insertInto('workflows').values({ name: 'old' }).returning('id').executeTakeFirstOrThrow()).id;
    });

    const write = await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "More" }) { id } }');
    expect(write.body.data).toBeNull();
    expect(write.body.errors![0]).toMatchObject({
      message: expect.stringMatching(/^this tenant stores \d+ KiB and its plan "q_[0-9a-f]+" allows 1 KiB \(maxStorageBytes\): writes are refused/),
      extensions: { code: 'QUOTA_EXCEEDED', limit: 'maxStorageBytes', max: 1024, current: expect.any(Number) },
    });
    expect(codeOf(await server.graphql(tenant.slug, INVITE, { email: 'b@full.example' }))).toBe('QUOTA_EXCEEDED');

    const read = await server.graphql(tenant.slug, '{ projects { totalCount } users { totalCount } }', {}, { as: 'viewer' });
    expect(read.body).toEqual({ data: { projects: { totalCount: 0 }, users: { totalCount: 1 } } });
    const deleted = await server.graphql(tenant.slug, 'mutation($id: ID!) { deleteWorkflow(id: $id) { deletedId } }', { id: encodeGlobalID('Workflow', workflowId) });
    expect(deleted.body.errors).toBeUndefined();
    // Sign-in mutations skip the check: a wrong password is refused as such, not as a quota.
    const login = await server.graphql(tenant.slug, 'mutation { login(email: "ada@full.example", password: "wrong password") { accessToken } }', {}, { as: null });
    expect(codeOf(login)).toBe('INVALID_CREDENTIALS');
  });

  it("storage is measured per tenant: one tenant's size never decides another's writes", async () => {
    const measure = (tenant: Tenant) => withTenantTransaction(database, tenant, { readOnly: true }, (db) => readStorageBytes(db, database));
    const [small, big] = [await newTenant('enterprise', 'q_small'), await newTenant('enterprise', 'q_big')];
    await withTenantTransaction(database, big, {}, (db) => insertDemoData(db, big.slug, { users: 20, projects: 10, deployments: 3000, workflows: 300 }));
    const [smallBytes, bigBytes] = [await measure(small), await measure(big)];
    expect(bigBytes).toBeGreaterThan(smallBytes * 2);
    // One plan for both, its limit between the two sizes.
    const plan = await insertPlan(database, { maxStorageBytes: Math.round((smallBytes + bigBytes) / 2) });
    await database.control.updateTable('control.tenants').set({ plan }).where('id', 'in', [small.id, big.id]).execute();
    const write = (tenant: Tenant) => server.graphql(tenant.slug, 'mutation { createProject(input: { name: "one more" }) { name } }');
    // The big tenant first, so its measurement is the one cached when the small one writes.
    expect(codeOf(await eventually(() => write(big), (r) => codeOf(r) === 'QUOTA_EXCEEDED'))).toBe('QUOTA_EXCEEDED');
    expect((await write(small)).body).toEqual({ data: { createProject: { name: 'one more' } } });

    // Control: a meter that keys every tenant alike does let the big tenant's size refuse the small one.
    const shared = new TenantStorageMeter();
    const keyless = { bytes: (_tenantId: string, read: () => Promise<number>) => shared.bytes('everyone', read) } as TenantStorageMeter;
    const leaky = await startTestServer({ database, yoga: { storageMeter: keyless } });
    try {
      const leakyWrite = (tenant: Tenant, name: string) => leaky.graphql(tenant.slug, `mutation { createProject(input: { name: "${name}" }) { name } }`);
      expect(codeOf(await leakyWrite(big, 'control big'))).toBe('QUOTA_EXCEEDED');
      expect(codeOf(await leakyWrite(small, 'control small'))).toBe('QUOTA_EXCEEDED');
    } finally {
      await leaky.close();
    }
  });

  it('a change to a plan row applies on the next requests, without a restart', async () => {
    const plan = await insertPlan(database, { maxStorageBytes: 1024, features: [] });
    const tenant = await newTenant(plan);
    const write = () => server.graphql(tenant.slug, 'mutation { createProject(input: { name: "p" }) { name } }');
    expect(codeOf(await write())).toBe('QUOTA_EXCEEDED');
    expect(codeOf(await server.graphql(tenant.slug, WORKFLOWS))).toBe('FEATURE_NOT_IN_PLAN');

    await database.control.updateTable('control.plans').set({ max_storage_bytes: null, features: ['workflows'] }).where('name', '=', plan).execute();
    expect((await eventually(write, (r) => r.body.errors === undefined)).body).toEqual({ data: { createProject: { name: 'p' } } });
    expect((await server.graphql(tenant.slug, WORKFLOWS)).body.errors).toBeUndefined();

    await database.control.updateTable('control.plans').set({ features: [] }).where('name', '=', plan).execute();
    expect(codeOf(await eventually(() => server.graphql(tenant.slug, WORKFLOWS), (r) => r.body.errors !== undefined))).toBe('FEATURE_NOT_IN_PLAN');
  });
});

describe('daily request limits', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  const request = async (server: TestServer, tenant: Tenant): Promise<RequestInit> => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
    body: JSON.stringify({ query: '{ projects { totalCount } }' }),
  });

  it('over the plan\'s requests a day: 429 RATE_LIMITED naming the daily limit, with Retry-After; the headers follow the tighter window', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'daily', { plan: await insertPlan(database, { requestsPerMinute: 3, requestsPerDay: 3 }) });
    // A generous minute, so the day is what runs out.
    const server = await startTestServer({ database, yoga: { rateLimiter: createTenantRateLimiter({ requestsPerMinute: () => 100, keyPrefix: `test:${randomBytes(4).toString('hex')}` }) } });
    try {
      const headers: string[][] = [];
      for (let i = 0; i < 3; i++) {
        const response = await server.fetch('http://yoga/graphql', await request(server, tenant));
        expect(response.status).toBe(200);
        headers.push(['x-ratelimit-limit', 'x-ratelimit-remaining'].map((name) => response.headers.get(name)!));
        expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(60);
      }
      expect(headers).toEqual([['3', '2'], ['3', '1'], ['3', '0']]);

      const over = await server.fetch('http://yoga/graphql', await request(server, tenant));
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(60);
      const body = (await over.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(body.errors[0]!.message).toMatch(/over its plan's 3 requests a day: retry in \d+ s/);
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'requestsPerDay' });
    } finally {
      await server.close();
    }
  });

  it('RATE_LIMIT_PER_MINUTE replaces the plan\'s limits, the daily one included', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'daily_off', { plan: await insertPlan(database, { requestsPerMinute: 2, requestsPerDay: 2 }) });
    const server = await startTestServer({ database, yoga: { rateLimiter: createTenantRateLimiter(rateLimiterSettings(testConfig({ rateLimitPerMinute: 50 }))) } });
    try {
      for (let i = 0; i < 5; i++) {
        const response = await server.fetch('http://yoga/graphql', await request(server, tenant));
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-limit')).toBe('50');
      }
    } finally {
      await server.close();
    }
  });
});
