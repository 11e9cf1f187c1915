import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import type { TenantRoleOptions } from '../tenants/tenant-schema.repository.js';
import { SchemataError } from '../../errors.js';
import { findDrift } from '../../migrations/drift.js';
import { readLedgers } from '../../migrations/ledger.repository.js';
import type { Template } from '../../migrations/template.js';
import { NAME_MAX_LENGTH, validateSlug, validateTenantName } from '../registry/slug.js';
import { holdSchemaForReading } from '../../db/schema-locks.js';
import { copySequence, copyTableRows, listTenantSequences, listTenantTables } from './tenant-tables.repository.js';
import { findTenantById, findTenantBySlug } from '../registry/tenant.repository.js';
import { migrateTenantInTransaction, provisionTenantInTransaction, tenantLabel, tenantNotFound } from '../tenants/tenant.service.js';
import { NO_MASTER_KEYS, type MasterKeys } from '../settings/settings-cipher.js';
import { readSettingsBundle, writeSettingsBundle } from '../settings/tenant-settings.service.js';

export interface CloneTarget {
  readonly slug: string;
  /** `<source name> (clone)` when absent. */
  readonly name?: string | undefined;
  /** Opens the source's secret settings to seal them anew under the copy's own data key; a source with secrets is refused without it. */
  readonly settingsKeys?: MasterKeys | undefined;
}

export interface ClonedTenant {
  readonly source: Tenant;
  /** The new tenant, at the template head. */
  readonly tenant: Tenant;
  readonly tables: number;
  readonly rows: number;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly sequences: number;
  readonly settings: number;
  readonly durationMs: number;
}

/**
 * Copies a tenant's schema and data into a new tenant (a sandbox or staging
 * copy) inside the database: one REPEATABLE READ transaction provisions the
 * copy at the source's template version, copies each table with INSERT …
 * SELECT in foreign-key order and the sequences with setval, then migrates
 * the copy to the head. No row passes through Node, every table comes from
 * one snapshot of the source, and a failure leaves no row, schema or role.
 * A shared hold on the source's migration lock, taken before that snapshot,
 * waits out a migration of the source in progress and keeps the next one
 * waiting until the clone ends. The copy gets its own id, schema, role and
 * signing secret. It enters no tenant scope: it writes into a schema no
 * tenant role may write to, so it runs as the owner and names both schemas
 * (see TransactionScope).
 */
export async function cloneTenant(database: Database, template: Template, sourceSlug: string, target: CloneTarget): Promise<ClonedTenant> {
  const fromSlug = validateSlug(sourceSlug);
  const slug = validateSlug(target.slug);
  const nameOverride = target.name === undefined ? undefined : validateTenantName(target.name);
  const started = performance.now();

  const found = await findTenantBySlug(database.control, fromSlug);
  if (!found) throw tenantNotFound(fromSlug);
  // One connection for the hold and the transaction: the hold must exist before the snapshot does.
  const hold = await holdSchemaForReading(database, found.schema_name);
  try {
    return await cloneInTransaction(hold.db, template, database, found, { slug, name: nameOverride ?? defaultName(found), settingsKeys: target.settingsKeys ?? NO_MASTER_KEYS }, started);
  } finally {
    await hold.release();
  }
}

async function cloneInTransaction(
  db: Kysely<ControlDatabase>,
  template: Template,
  roles: TenantRoleOptions,
  found: Tenant,
  target: { readonly slug: string; readonly name: string; readonly settingsKeys: MasterKeys },
  started: number,
): Promise<ClonedTenant> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      // Read again in the snapshot: the tenant may have been purged since it was found.
      const source = await findTenantById(trx, found.id);
      if (!source) throw tenantNotFound(found.slug);
      // The copy is built from this server's files at the source's version, so they must be the files the source was built from.
      const drift = findDrift(template, (await readLedgers(trx, [source.schema_name])).get(source.schema_name) ?? []);
      if (drift.length > 0 || source.template_version > template.latestVersion) {
        throw new SchemataError(
          'MIGRATION_DRIFT',
          `${tenantLabel(source)} was built from other template files than this server's (${drift.map((d) => `${d.file}: ${d.problem}`).join('; ') || `version ${source.template_version}`}), so it cannot be cloned here`,
          { drift },
        );
      }

      const copy = await provisionTenantInTransaction(
        trx,
        template,
        roles,
        { slug: target.slug, name: target.name, plan: source.plan },
        { toVersion: source.template_version },
      );
      const tables = await listTenantTables(trx, copy.schema_name);
      const rowCounts: Record<string, number> = {};
      for (const table of tables) rowCounts[table.name] = await copyTableRows(trx, source.schema_name, copy.schema_name, table);
      const sequences = await listTenantSequences(trx, copy.schema_name);
      for (const sequence of sequences) await copySequence(trx, source.schema_name, copy.schema_name, sequence);
      const { tenant } = await migrateTenantInTransaction(trx, template, copy);
      const settings = await writeSettingsBundle(trx, target.settingsKeys, await readSettingsBundle(trx, source.id), tenant.id);

      const rows = Object.values(rowCounts).reduce((a, b) => a + b, 0);
      return { source, tenant, tables: tables.length, rows, rowCounts, sequences: sequences.length, settings, durationMs: performance.now() - started };
    });
}

function defaultName(source: Tenant): string {
  const name = `${source.name} (clone)`;
  return name.length <= NAME_MAX_LENGTH ? name : source.name;
}
