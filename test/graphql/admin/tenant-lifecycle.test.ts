import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { eventually } from '../../helpers/eventually.js';
import { seedTenant, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../../helpers/test-server.js';

const TENANT_FIELDS = 'slug name status plan schemaName templateVersion deletedAt';
type AdminTenant = { slug: string; name: string; status: string; plan: string; schemaName: string; templateVersion: number; deletedAt: string | null };

async function schemaExists(database: Database, schema: string): Promise<{ schema: boolean; role: boolean }> {
  const result = await sql<{ schema: boolean; role: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ${schema}) AS schema,
           EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${schema}) AS role`.execute(database.control);
  return result.rows[0]!;
}

function code(response: GraphQLResponse): unknown {
  return response.body.errors?.[0]?.extensions?.code;
}

describe('tenant lifecycle through /admin/graphql', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  const mutate = async (name: string, args: string) => {
    const response = await admin.admin<Record<string, AdminTenant>>(`mutation { ${name}(${args}) { ${TENANT_FIELDS} } }`);
    return { response, tenant: response.body.data?.[name] };
  };
  const whoAmI = (slug: string) => server.graphql(slug, '{ tenant { slug } }');

  beforeAll(async () => {
    server = await startTestServer();
    admin = await startAdminTestServer(server.database);
  });
  afterAll(() => server.close());

  it('createTenant returns the tenant and how long provisioning took', async () => {
    const slug = uniqueSlug('adm_new');
    const response = await admin.admin<{ createTenant: { tenant: AdminTenant; durationMs: number } }>(
      'mutation ($slug: String!) { createTenant(slug: $slug, name: "Admin Made") { durationMs tenant { slug name status templateVersion } } }',
      { slug },
    );
    const created = response.body.data!.createTenant;
    expect(created.tenant).toMatchObject({ slug, name: 'Admin Made', status: 'ACTIVE', templateVersion: (await tenantTemplate()).latestVersion });
    expect(created.durationMs).toBeGreaterThan(0);
    expect((await eventually(() => whoAmI(slug), (r) => r.status === 200)).status).toBe(200);
  });

  it('createTenant takes a plan; an unknown plan or a taken slug is refused and creates nothing', async () => {
    const slug = uniqueSlug('adm_planned');
    const create = (s: string, plan: string) =>
      admin.admin<{ createTenant: { tenant: AdminTenant } }>('mutation ($s: String!, $p: String) { createTenant(slug: $s, plan: $p) { tenant { slug plan } } }', { s, p: plan });
    expect((await create(slug, 'enterprise')).body.data?.createTenant.tenant).toEqual({ slug, plan: 'enterprise' });
    const refused = uniqueSlug('adm_planned');
    expect(code(await create(refused, 'platinum'))).toBe('PLAN_NOT_FOUND');
    expect((await admin.admin<{ tenant: null }>(`{ tenant(slug: "${refused}") { slug } }`)).body.data?.tenant).toBeNull();
    expect(code(await create(slug, 'basic'))).toBe('TENANT_EXISTS');
  });

  it('cloneTenant copies schema and data into a new tenant that writes independently', async () => {
    const source = await seedTenant(server.database, await tenantTemplate(), 'adm_src');
    await server.graphql(source.slug, 'mutation { createProject(input: { name: "Original" }) { id } }');
    const copySlug = uniqueSlug('adm_copy');
    const cloned = await admin.admin<{ cloneTenant: { durationMs: number; tenant: AdminTenant } }>(
      `mutation { cloneTenant(slug: "${source.slug}", as: "${copySlug}", name: "Sandbox") { durationMs tenant { ${TENANT_FIELDS} } } }`,
    );
    const copy = cloned.body.data!.cloneTenant;
    expect(copy.tenant).toMatchObject({ slug: copySlug, name: 'Sandbox', status: 'ACTIVE' });
    expect(copy.tenant.schemaName).not.toBe(source.schema_name);
    expect(copy.durationMs).toBeGreaterThan(0);

    const names = async (slug: string) =>
      (await server.graphql<{ projects: { edges: { node: { name: string } }[] } }>(slug, '{ projects(first: 5) { edges { node { name } } } }')).body.data?.projects.edges
        .map((e) => e.node.name)
        .sort();
    expect(await eventually(() => names(copySlug), (n) => n !== undefined)).toEqual(['Original']);
    await server.graphql(copySlug, 'mutation { createProject(input: { name: "Only in the copy" }) { id } }');
    expect(await names(copySlug)).toEqual(['Only in the copy', 'Original']);
    expect(await names(source.slug)).toEqual(['Original']);
    expect(code(await admin.admin(`mutation { cloneTenant(slug: "${source.slug}", as: "${copySlug}") { durationMs } }`))).toBe('TENANT_EXISTS');
  });

  it('suspend takes effect on the next request (403), resume brings it back', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_susp');
    expect((await whoAmI(tenant.slug)).status).toBe(200); // cached in the registry now

    expect((await mutate('suspendTenant', `slug: "${tenant.slug}"`)).tenant?.status).toBe('SUSPENDED');
    const suspended = await eventually(() => whoAmI(tenant.slug), (r) => r.status === 403);
    expect([suspended.status, code(suspended)]).toEqual([403, 'TENANT_SUSPENDED']);
    // Suspending twice is a no-op, not an error.
    expect((await mutate('suspendTenant', `slug: "${tenant.slug}"`)).tenant?.status).toBe('SUSPENDED');

    expect((await mutate('resumeTenant', `slug: "${tenant.slug}"`)).tenant?.status).toBe('ACTIVE');
    expect((await eventually(() => whoAmI(tenant.slug), (r) => r.status === 200)).status).toBe(200);
  });

  it('delete is soft: 404, schema and data kept; restore brings it back with its data and its earlier status', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_del');
    await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "Keep me" }) { id } }');
    await mutate('suspendTenant', `slug: "${tenant.slug}"`);

    const deleted = await mutate('deleteTenant', `slug: "${tenant.slug}"`);
    expect(deleted.tenant).toMatchObject({ status: 'DELETED' });
    expect(deleted.tenant?.deletedAt).not.toBeNull();
    const gone = await eventually(() => whoAmI(tenant.slug), (r) => r.status === 404);
    expect([gone.status, code(gone)]).toEqual([404, 'TENANT_NOT_FOUND']);
    expect(await schemaExists(server.database, tenant.schema_name)).toEqual({ schema: true, role: true });
    // A deleted tenant cannot be suspended or resumed: restore it first.
    expect(code((await mutate('resumeTenant', `slug: "${tenant.slug}"`)).response)).toBe('TENANT_DELETED');

    const restored = await mutate('restoreTenant', `slug: "${tenant.slug}"`);
    expect(restored.tenant).toMatchObject({ status: 'SUSPENDED', deletedAt: null });
    await mutate('resumeTenant', `slug: "${tenant.slug}"`);
    const projects = await eventually(
      () => server.graphql<{ projects: { edges: { node: { name: string } }[] } }>(tenant.slug, '{ projects(first: 5) { edges { node { name } } } }'),
      (r) => r.status === 200,
    );
    expect(projects.body.data?.projects.edges.map((e) => e.node.name)).toEqual(['Keep me']);
  });

  it('restore migrates a tenant that fleet migrations skipped while it was deleted', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_rest');
    await mutate('deleteTenant', `slug: "${tenant.slug}"`);
    // As if the template head moved on while it was deleted: take its schema one version back.
    const { migrateSchema } = await import('../../../src/migrations/migrate-schema.js');
    const { setTemplateVersion } = await import('../../../src/control/registry/tenant.repository.js');
    const template = await tenantTemplate();
    await server.database.control.transaction().execute(async (trx) => {
      const { version } = await migrateSchema(trx, tenant.schema_name, template, 'test', { direction: 'down', toVersion: template.latestVersion - 1 });
      await setTemplateVersion(trx, tenant.id, version);
    });
    const restored = await mutate('restoreTenant', `slug: "${tenant.slug}"`);
    expect(restored.tenant).toMatchObject({ status: 'ACTIVE', templateVersion: template.latestVersion });
  });

  it('purge needs a soft-deleted tenant and the slug repeated; then schema, role and row are gone', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_purge');
    const live = await admin.admin(`mutation { purgeTenant(slug: "${tenant.slug}", confirmSlug: "${tenant.slug}") { slug } }`);
    expect(code(live)).toBe('TENANT_NOT_DELETED');
    expect(await schemaExists(server.database, tenant.schema_name)).toEqual({ schema: true, role: true });

    await mutate('deleteTenant', `slug: "${tenant.slug}"`);
    const unconfirmed = await admin.admin(`mutation { purgeTenant(slug: "${tenant.slug}", confirmSlug: "other") { slug } }`);
    expect(code(unconfirmed)).toBe('BAD_USER_INPUT');
    expect(await schemaExists(server.database, tenant.schema_name)).toEqual({ schema: true, role: true });

    const purged = await admin.admin(`mutation { purgeTenant(slug: "${tenant.slug}", confirmSlug: "${tenant.slug}") { slug } }`);
    expect(purged.body.errors).toBeUndefined();
    expect(await schemaExists(server.database, tenant.schema_name)).toEqual({ schema: false, role: false });
    const lookup = await admin.admin<{ tenant: null }>(`{ tenant(slug: "${tenant.slug}") { slug } }`);
    expect(lookup.body.data?.tenant).toBeNull();
  });

  it('rename changes the slug, not the schema: the old slug 404s, the new one serves the same data', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_ren');
    await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "Moved" }) { id } }');
    const newSlug = uniqueSlug('adm_renamed');
    const renamed = await mutate('renameTenant', `slug: "${tenant.slug}", newSlug: "${newSlug}", name: "Renamed Co"`);
    expect(renamed.tenant).toMatchObject({ slug: newSlug, name: 'Renamed Co', schemaName: tenant.schema_name });
    expect((await eventually(() => whoAmI(tenant.slug), (r) => r.status === 404)).status).toBe(404);
    const projects = await server.graphql<{ projects: { edges: { node: { name: string } }[] } }>(newSlug, '{ projects(first: 5) { edges { node { name } } } }');
    expect(projects.body.data?.projects.edges.map((e) => e.node.name)).toEqual(['Moved']);

    const other = await seedTenant(server.database, await tenantTemplate(), 'adm_taken');
    expect(code((await mutate('renameTenant', `slug: "${newSlug}", newSlug: "${other.slug}"`)).response)).toBe('TENANT_EXISTS');
    expect(code((await mutate('renameTenant', `slug: "${newSlug}", newSlug: "Bad Slug!"`)).response)).toBe('INVALID_SLUG');
  });

  it('operations on an unknown or hostile slug are refused with a code and change nothing', async () => {
    expect(code((await mutate('suspendTenant', 'slug: "no_such_tenant_here"')).response)).toBe('TENANT_NOT_FOUND');
    const hostile = await mutate('deleteTenant', `slug: "x'; DROP SCHEMA control; --"`);
    expect(code(hostile.response)).toBe('INVALID_SLUG');
    expect(hostile.response.text).not.toMatch(/\bat .*\.ts|syntax error|relation "/i);
  });

  it('changePlan switches the limits that apply from the next request; an unknown plan is refused', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_plan');
    const workflows = () => server.graphql(tenant.slug, '{ workflows(first: 1) { totalCount } }');
    expect((await mutate('changePlan', `slug: "${tenant.slug}", plan: "basic"`)).tenant?.plan).toBe('basic');
    expect(code(await eventually(workflows, (r) => code(r) === 'FEATURE_NOT_IN_PLAN', 15_000))).toBe('FEATURE_NOT_IN_PLAN');

    expect((await mutate('changePlan', `slug: "${tenant.slug}", plan: "premium"`)).tenant?.plan).toBe('premium');
    const allowed = await eventually(workflows, (r) => r.body.errors === undefined, 15_000);
    expect(allowed.body.data).toEqual({ workflows: { totalCount: 0 } });

    expect(code((await mutate('changePlan', `slug: "${tenant.slug}", plan: "platinum"`)).response)).toBe('PLAN_NOT_FOUND');
    const plans = await admin.admin<{ plans: { name: string }[] }>('{ plans { name maxUsers maxStorageBytes requestsPerMinute requestsPerDay features } }');
    // Other test files add plans of their own to the run's database.
    expect(plans.body.data?.plans.map((p) => p.name)).toEqual(expect.arrayContaining(['basic', 'custom', 'enterprise', 'premium']));
  });

  it('every operation is denied to a tenant admin token, and nothing changes', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_deny');
    const token = await server.tokenFor(tenant.slug, 'admin');
    const s = tenant.slug;
    const operations = [
      '{ tenants { slug } }',
      `{ tenant(slug: "${s}") { slug usage { storageBytes } } }`,
      '{ fleet { total } }',
      '{ analytics { tenantsScanned } }',
      '{ plans { name } }',
      `mutation { createTenant(slug: "${s}_x") { durationMs } }`,
      `mutation { cloneTenant(slug: "${s}", as: "${s}_z") { durationMs } }`,
      `mutation { suspendTenant(slug: "${s}") { slug } }`,
      `mutation { resumeTenant(slug: "${s}") { slug } }`,
      `mutation { deleteTenant(slug: "${s}") { slug } }`,
      `mutation { restoreTenant(slug: "${s}") { slug } }`,
      `mutation { purgeTenant(slug: "${s}", confirmSlug: "${s}") { slug } }`,
      `mutation { renameTenant(slug: "${s}", newSlug: "${s}_y") { slug } }`,
      `mutation { changePlan(slug: "${s}", plan: "enterprise") { slug } }`,
      `mutation { rotateSigningKey(slug: "${s}") { slug } }`,
      'mutation { refreshAnalytics { tenantsScanned } }',
    ];
    for (const operation of operations) {
      const response = await admin.admin(operation, undefined, { token });
      expect([operation, response.status, code(response)]).toEqual([operation, 401, 'INVALID_TOKEN']);
    }
    const after = await admin.admin<{ tenant: AdminTenant }>(`{ tenant(slug: "${s}") { ${TENANT_FIELDS} } }`);
    expect(after.body.data?.tenant).toMatchObject({ slug: s, status: 'ACTIVE', plan: tenant.plan, name: tenant.name });
    for (const absent of [`${s}_x`, `${s}_z`]) expect((await admin.admin<{ tenant: null }>(`{ tenant(slug: "${absent}") { slug } }`)).body.data?.tenant).toBeNull();
    expect((await whoAmI(s)).status).toBe(200); // the signing key was not rotated either
  });
});
