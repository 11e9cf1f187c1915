import { sql } from 'kysely';
import pg from 'pg';
import { migrateTenantInTransaction, provisionTenantInTransaction } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import type { MigrationDirection } from '../../src/migrations/migrate-schema.js';
import { loadTemplates, type Template } from '../../src/migrations/template.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { openScratchDatabase } from './scratch-database.js';
import { openTestDatabase, TEMPLATES_DIR, uniqueSlug } from './test-database.js';

/*
 * The steps of a per-migration test (migrate to the version before, seed,
 * migrate, assert), on a tenant of its own or a scratch control plane.
 */

export interface TenantUnderTest {
  readonly database: Database;
  readonly template: Template;
  /** Its schema, role and grants, built only up to the version asked for, as an older server left it. */
  readonly tenant: Tenant;
  /** Migrates it the way the fleet does (ledger kept from its role, version recorded); returns the files run. */
  migrate(direction: MigrationDirection): Promise<readonly string[]>;
  close(): Promise<void>;
}

/** A tenant of its own on this run's test database, at template `version`. */
export async function tenantAtVersion(version: number, prefix: string): Promise<TenantUnderTest> {
  const database = await openTestDatabase();
  const template = (await loadTemplates(TEMPLATES_DIR)).tenant;
  const tenant = await database.control
    .transaction()
    .execute((trx) => provisionTenantInTransaction(trx, template, database, { slug: uniqueSlug(prefix), plan: 'enterprise' }, { toVersion: version }));
  return {
    database,
    template,
    tenant,
    async migrate(direction) {
      return (await database.control.transaction().execute((trx) => migrateTenantInTransaction(trx, template, tenant, direction))).names;
    },
    close: () => database.close(),
  };
}

export interface ControlPlaneUnderTest {
  readonly database: Database;
  /** A session LISTENing on the registry's change channel. */
  readonly changes: Listener;
  /** Migrates the control plane; returns the files run. */
  migrate(direction: MigrationDirection): Promise<readonly string[]>;
  close(): Promise<void>;
}

/** A database of its own with no control plane yet: migrate it to the version under test's predecessor first. */
export async function scratchControlPlane(): Promise<ControlPlaneUnderTest> {
  const scratch = await openScratchDatabase();
  const template = (await loadTemplates(TEMPLATES_DIR)).control;
  const changes = await listen(scratch.database.sessionUrl, 'schemata_tenant_changed');
  return {
    database: scratch.database,
    changes,
    async migrate(direction) {
      return (await migrateControlPlane(scratch.database, template, direction)).names;
    },
    async close() {
      await changes.close();
      await scratch.drop();
    },
  };
}

/** Runs `text` in the tenant's request scope (its schema, its role): what the tenant itself may do. */
export async function asTenant<R = Record<string, unknown>>(database: Database, tenant: Tenant, text: string): Promise<R[]> {
  return withTenantTransaction(database, tenant, {}, async (db) => (await sql.raw<R>(text).execute(db)).rows);
}

/** Names of the relations of `kind` (pg_class.relkind: 'r' tables, 'i' indexes) in `schema`, sorted. */
export async function relationsIn(database: Database, schema: string, kind: 'r' | 'i' = 'r'): Promise<string[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind = ${kind} ORDER BY 1`.execute(database.control);
  return result.rows.map((row) => row.name);
}

/**
 * An INSERT of one control.tenants row as any version of the registry takes
 * it (no schema or role is made); `set` adds or overrides columns, as SQL.
 */
export function tenantRow(slug: string, set: Readonly<Record<string, string>> = {}): string {
  const columns = { slug: `'${slug}'`, name: `'A tenant'`, schema_name: `'tenant_' || md5(random()::text)`, ...set };
  return `INSERT INTO control.tenants (${Object.keys(columns).join(', ')}) VALUES (${Object.values(columns).join(', ')})`;
}

export interface Listener {
  /** Payloads received since the last call: it sends a sentinel and waits for it, so nothing still in flight is missed. */
  drain(): Promise<unknown[]>;
  close(): Promise<void>;
}

/** A session of its own LISTENing on `channel`; payloads are parsed as JSON. */
export async function listen(url: string, channel: string): Promise<Listener> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
  let received: string[] = [];
  let sentinelSeen: (() => void) | undefined;
  client.on('notification', (message) => {
    if (message.channel !== channel) return;
    if (message.payload === '"sentinel"') sentinelSeen?.();
    else received.push(message.payload ?? '');
  });
  return {
    async drain() {
      const seen = new Promise<void>((resolve) => (sentinelSeen = resolve));
      await client.query(`SELECT pg_notify($1, '"sentinel"')`, [channel]);
      await seen;
      const payloads = received.map((text) => JSON.parse(text) as unknown);
      received = [];
      return payloads;
    },
    close: () => client.end(),
  };
}
