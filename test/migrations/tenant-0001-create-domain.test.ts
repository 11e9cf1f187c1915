import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { asTenant, relationsIn, tenantAtVersion, type TenantUnderTest } from '../helpers/migration-steps.js';

const TABLES = ['audit_log', 'deployments', 'projects', 'schema_migrations', 'users', 'workflows'];

/** Tenant migration 0001 on a schema that has none: migrate to 0, migrate, assert. */
describe('tenant migration 0001 (users, projects, deployments, workflows, audit log)', () => {
  let subject: TenantUnderTest;
  let database: Database;
  let tenant: Tenant;
  beforeAll(async () => {
    // Version 0: the schema, role and ledger exist, no table does. There is nothing older to seed.
    subject = await tenantAtVersion(0, 'mig0001');
    ({ database, tenant } = subject);
  });
  afterAll(() => subject.close());

  it('creates the domain tables in the tenant schema, usable by the tenant role and guarded by their checks', async () => {
    expect(await relationsIn(database, tenant.schema_name)).toEqual(['schema_migrations']);
    expect(await subject.migrate({ direction: 'up', toVersion: 1 })).toEqual(['0001_create_domain.sql']);
    expect(await relationsIn(database, tenant.schema_name)).toEqual(TABLES);
    expect(await relationsIn(database, tenant.schema_name, 'i')).toEqual(
      expect.arrayContaining(['users_email_key', 'deployments_status_created_at_id_idx', 'workflows_created_at_id_idx', 'audit_log_created_at_id_idx']),
    );

    // The tenant role writes through the schema's default privileges, with no schema named.
    const [user] = await asTenant<{ id: string; role: string }>(database, tenant, `INSERT INTO users (email, name) VALUES ('ada@x.example', 'Ada') RETURNING id, role`);
    expect(user!.role).toBe('member');
    const [project] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO projects (name, created_by) VALUES ('Engine', '${user!.id}') RETURNING id`);
    const [deployment] = await asTenant<{ status: string; environment: string }>(
      database,
      tenant,
      `INSERT INTO deployments (project_id, created_by, url) VALUES ('${project!.id}', '${user!.id}', 'https://engine.example') RETURNING status, environment`,
    );
    expect(deployment).toEqual({ status: 'pending', environment: 'production' });
    await asTenant(database, tenant, `INSERT INTO workflows (name) VALUES ('nightly')`);
    await asTenant(database, tenant, `INSERT INTO audit_log (action, entity_type) VALUES ('create', 'project')`);

    for (const [label, statement, code] of [
      ['an email without @', `INSERT INTO users (email, name) VALUES ('nobody', 'N')`, '23514'],
      ['the same email in other case', `INSERT INTO users (email, name) VALUES ('ADA@x.example', 'Ada 2')`, '23505'],
      ['an unknown user role', `UPDATE users SET role = 'owner'`, '23514'],
      ['the same project name in other case', `INSERT INTO projects (name) VALUES ('ENGINE')`, '23505'],
      ['an unknown deployment status', `UPDATE deployments SET status = 'done'`, '23514'],
      ['an environment with capitals', `UPDATE deployments SET environment = 'Prod'`, '23514'],
      ['a non-http url', `UPDATE deployments SET url = 'ftp://engine.example'`, '23514'],
      ['a deployment of no project', `INSERT INTO deployments (project_id) VALUES (gen_random_uuid())`, '23503'],
      ['a workflow config that is not an object', `UPDATE workflows SET config = '[]'`, '23514'],
      ['an unknown workflow status', `UPDATE workflows SET status = 'running'`, '23514'],
      ['a DROP by the tenant role', `DROP TABLE audit_log`, '42501'],
    ] as const) {
      await expect(asTenant(database, tenant, statement), label).rejects.toMatchObject({ code });
    }

    // Deleting a user keeps what it made; deleting a project takes its deployments.
    await asTenant(database, tenant, `DELETE FROM users`);
    expect(await asTenant(database, tenant, `SELECT created_by FROM projects UNION ALL SELECT created_by FROM deployments`)).toEqual([{ created_by: null }, { created_by: null }]);
    await asTenant(database, tenant, `DELETE FROM projects`);
    expect(await asTenant(database, tenant, `SELECT count(*)::int AS n FROM deployments`)).toEqual([{ n: 0 }]);
  });

  it('goes down to an empty schema and up again', async () => {
    expect(await subject.migrate({ direction: 'down', toVersion: 0 })).toEqual(['0001_create_domain.sql']);
    expect(await relationsIn(database, tenant.schema_name)).toEqual(['schema_migrations']);
    expect(await subject.migrate({ direction: 'up', toVersion: 1 })).toEqual(['0001_create_domain.sql']);
    expect(await relationsIn(database, tenant.schema_name)).toEqual(TABLES);
    expect(await asTenant(database, tenant, `SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 0 }]);
  });
});
