import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { exportTenant } from '../../src/control/transfer/tenant-export.service.js';
import { TenantRegistry } from '../../src/control/registry/tenant-registry.js';
import type { Tenant } from '../../src/db/control-database.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateTenants } from '../../src/control/fleet/migrate-tenants.js';
import { loadTemplate } from '../../src/migrations/template.js';
import { seedFingerprintedRows } from '../helpers/fingerprints.js';
import { fuzz, leakySessionScope } from '../helpers/isolation-fuzz.js';
import { PGBOUNCER, startPgBouncer, type RunningPgBouncer } from '../helpers/pgbouncer.js';
import { runCli } from '../helpers/run-cli.js';
import { seedTenant, templatesWith, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// CI installs pgbouncer (.ci/run) and must run this file; a developer machine without it skips it, saying why.
const CI = process.env.CI === 'true';
if (!PGBOUNCER) console.warn(`pgbouncer is not installed: ${CI ? 'this suite fails, as CI must run it' : 'skipping the PgBouncer suite (apt-get install pgbouncer)'}`);

const POOL = 3;

describe.skipIf(!PGBOUNCER && !CI)('behind PgBouncer in transaction mode', () => {
  const directUrl = inject('databaseUrl');
  let bouncer: RunningPgBouncer;
  /** Requests through PgBouncer; sessions (LISTEN) on the direct URL. */
  let pooled: Database;
  /** Requests and sessions alike through PgBouncer: what an operator without DATABASE_DIRECT_URL runs. */
  let bouncedOnly: Database;
  let direct: Database;
  let tenants: Tenant[];

  beforeAll(async () => {
    bouncer = await startPgBouncer(directUrl, { poolSize: POOL });
    pooled = await openDatabase(testConfig({ databaseUrl: bouncer.url, databaseDirectUrl: directUrl, poolSize: 12 }));
    bouncedOnly = await openDatabase(testConfig({ databaseUrl: bouncer.url, poolSize: 12 }));
    direct = await openDatabase(testConfig());
    const template = await tenantTemplate();
    tenants = [];
    for (let i = 0; i < 8; i++) tenants.push(await seedTenant(direct, template, `bouncer${i}`));
    await Promise.all(tenants.map((tenant) => seedFingerprintedRows(direct, tenant, { projects: 3, deployments: 30, workflows: 10 })));
  });
  afterAll(async () => {
    await Promise.all([pooled?.close(), bouncedOnly?.close(), direct?.close()]);
    await bouncer?.stop();
  });

  it('negative control: a session-level SET through PgBouncer reaches another client on the same backend', async () => {
    const single = await startPgBouncer(directUrl, { poolSize: 1 });
    const [a, b] = [new pg.Client(single.url), new pg.Client(single.url)];
    try {
      await a.connect();
      await b.connect();
      const schema = tenants[0]!.schema_name;
      await a.query(`SET search_path TO "${schema}"`);
      const seenByA = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      const seenByB = (await b.query<{ pid: number; schema: string }>('SELECT pg_backend_pid() AS pid, current_schema() AS schema')).rows[0]!;
      expect(seenByB.pid).toBe(seenByA.pid);
      expect(seenByB.schema).toBe(schema);
    } finally {
      await Promise.all([a.end(), b.end()]);
      await single.stop();
    }
  });

  it(`the isolation fuzz through PgBouncer (${POOL} server connections) sees 0 foreign rows; a session-level SET does leak`, async () => {
    const server = await startTestServer({ database: pooled });
    try {
      const outcome = await fuzz(server, tenants, { requests: 1_500, inFlight: 48 });
      console.log(`isolation fuzz through PgBouncer: ${JSON.stringify(outcome)}`);
      expect(outcome.failedRequests).toBe(0);
      expect(outcome.rows).toBeGreaterThan(1_500 * 5);
      expect(outcome.foreignRows).toBe(0);
    } finally {
      await server.close();
    }
    const leakyPool = await openDatabase(testConfig({ databaseUrl: bouncer.url, databaseDirectUrl: directUrl, poolSize: 12 }));
    const leaky = await startTestServer({ database: leakyPool, yoga: { tenantScope: leakySessionScope } });
    try {
      const outcome = await fuzz(leaky, tenants, { requests: 1_500, inFlight: 48 });
      console.log(`isolation fuzz through PgBouncer, leaky control: ${JSON.stringify(outcome)}`);
      expect(outcome.foreignRows).toBeGreaterThan(0);
    } finally {
      await leaky.close();
      await leakyPool.close();
    }
  });

  /** How long until a change made by a CLI process (on the direct URL) shows in the server's answers. */
  async function reachesServer(server: TestServer, tenant: Tenant, query: string, change: readonly string[], changed: (body: string) => boolean, as?: { token: string }) {
    const before = await server.graphql(tenant.slug, query, {}, { as: as ?? 'viewer' });
    expect(changed(before.text), before.text).toBe(false);
    const cli = await runCli('tenant', change, { DATABASE_URL: directUrl });
    expect(cli.code, cli.stderr).toBe(0);
    const started = performance.now();
    while (performance.now() - started < 3_000) {
      const response = await server.graphql(tenant.slug, query, {}, { as: as ?? 'viewer' });
      if (changed(response.text)) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Number.POSITIVE_INFINITY;
  }

  for (const setup of ['with DATABASE_DIRECT_URL', 'without it (the probe finds LISTEN broken)'] as const) {
    it(`suspension, key rotation and plan change reach a server behind PgBouncer within 2 s, ${setup}`, async () => {
      const database = setup === 'with DATABASE_DIRECT_URL' ? pooled : bouncedOnly;
      const server = await startTestServer({ database });
      const [suspended, rotated, replanned] = tenants.slice(5, 8) as [Tenant, Tenant, Tenant];
      try {
        expect(server.registry.synced).toBe(setup === 'with DATABASE_DIRECT_URL');
        const token = { token: await server.tokenFor(rotated.slug, 'viewer') };
        const times = {
          suspend: await reachesServer(server, suspended, '{ tenant { slug } }', ['suspend', suspended.slug], (body) => body.includes('TENANT_SUSPENDED')),
          rotateKey: await reachesServer(server, rotated, '{ tenant { slug } }', ['rotate-key', rotated.slug], (body) => body.includes('INVALID_TOKEN'), token),
          changePlan: await reachesServer(server, replanned, '{ tenant { plan } }', ['change-plan', replanned.slug, 'basic'], (body) => body.includes('"plan":"basic"')),
        };
        console.log(`behind PgBouncer ${setup}: ms until the change reached the server ${JSON.stringify(times)}`);
        for (const ms of Object.values(times)) expect(ms).toBeLessThan(2_000);
      } finally {
        await server.close();
        await runCli('tenant', ['resume', suspended.slug], { DATABASE_URL: directUrl });
        await runCli('tenant', ['change-plan', replanned.slug, 'enterprise'], { DATABASE_URL: directUrl });
      }
    });
  }

  it('a registry whose LISTEN goes through PgBouncer reports it is out of sync at start; one on the direct URL does not', async () => {
    for (const [database, expected] of [[bouncedOnly, [false]], [pooled, []]] as const) {
      const changes: boolean[] = [];
      const registry = await TenantRegistry.start(database, { onSyncChange: (synced) => changes.push(synced) });
      try {
        expect(registry.synced).toBe(expected.length === 0);
        expect(changes).toEqual(expected);
      } finally {
        await registry.close();
      }
    }
  });

  it('negative control: without the direct URL and without the probe, a suspension does not reach the server', async () => {
    const server = await startTestServer({ database: bouncedOnly, registry: { heartbeatMs: 0 } });
    const tenant = tenants[4]!;
    try {
      // Cache the tenant, then suspend it from another process.
      expect((await server.graphql(tenant.slug, '{ tenant { slug } }', {}, { as: 'viewer' })).status).toBe(200);
      const cli = await runCli('tenant', ['suspend', tenant.slug], { DATABASE_URL: directUrl });
      expect(cli.code, cli.stderr).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect((await server.graphql(tenant.slug, '{ tenant { slug } }', {}, { as: 'viewer' })).status).toBe(200);
    } finally {
      await server.close();
      await runCli('tenant', ['resume', tenant.slug], { DATABASE_URL: directUrl });
    }
  });

  it('an export through PgBouncer leaves no lock behind: a migration of that tenant right after it completes', async () => {
    const tenant = tenants[3]!;
    const advisoryLocks = async () =>
      Number((await direct.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext($1)::oid`, [tenant.schema_name])).rows[0]!.n);
    const exported = await exportTenant(bouncedOnly, tenant.slug);
    let lines = 0;
    let heldDuring = 0;
    for await (const _ of exported.lines) {
      if (lines++ === 0) heldDuring = await advisoryLocks();
    }
    expect(exported.summary?.rows).toBeGreaterThan(40);
    // The hold existed while the export read, and nothing of it is left on any backend.
    expect(heldDuring).toBe(1);
    expect(await advisoryLocks()).toBe(0);

    const next = await loadTemplate(await templatesWith({ '9901_add_bouncer_note.sql': '-- migrate:up\nALTER TABLE projects ADD COLUMN bouncer_note text;\n' }), 'tenant');
    const migrated = await Promise.race([
      migrateTenants(bouncedOnly, next, { direction: { direction: 'up' }, concurrency: 2, slugs: [tenant.slug] }),
      new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), 15_000)),
    ]);
    expect(migrated).not.toBe('timed out');
    expect(migrated).toMatchObject({ migrated: 1, failed: 0 });
  });

  it('negative control: a session advisory lock taken through PgBouncer and released through another client stays held', async () => {
    const [a, b] = [await bouncedOnly.pool.connect(), await bouncedOnly.pool.connect()];
    try {
      // Two clients at once hold two different server connections.
      await a.query('BEGIN');
      await b.query('BEGIN');
      const key = 987_654;
      await a.query('SELECT pg_advisory_lock_shared($1)', [key]);
      await a.query('COMMIT');
      await b.query('SELECT pg_advisory_unlock_shared($1)', [key]);
      await b.query('COMMIT');
      const held = await direct.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`, [key]);
      expect(Number(held.rows[0]!.n)).toBe(1);
    } finally {
      a.release(new Error('holds a session lock'));
      b.release();
      // Close the server connection that still holds it.
      await direct.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`, [987_654]);
    }
  });
});
