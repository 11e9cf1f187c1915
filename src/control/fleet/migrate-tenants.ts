import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { countTenantsForMigration, listTenantsForMigration } from '../registry/tenant.repository.js';
import { migrateTenantInTransaction } from '../tenants/tenant.service.js';
import { grantLoginToTenantRoles, type RoleLoginGrants } from '../tenants/tenant-schema.repository.js';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { isSchemataError } from '../../errors.js';
import type { MigrationDirection } from '../../migrations/migrate-schema.js';
import type { Template } from '../../migrations/template.js';

export interface MigrateTenantsOptions {
  readonly direction: MigrationDirection;
  /** Tenants migrated at once, each on its own connection. */
  readonly concurrency: number;
  /** Limit the run to these slugs (still skipping those already at the target). */
  readonly slugs?: readonly string[];
  /** Called once before the first tenant and after each tenant finishes. */
  readonly onProgress?: (progress: MigrationProgress) => void;
}

export interface MigrationProgress {
  readonly done: number;
  readonly total: number;
  readonly last?: TenantMigrationResult;
}

export type TenantMigrationResult =
  | { readonly slug: string; readonly ok: true; readonly from: number; readonly to: number; readonly files: readonly string[] }
  | { readonly slug: string; readonly ok: false; readonly from: number; readonly code: string; readonly error: string };

export interface MigrateTenantsResult {
  /** Tenants that needed work: the registry says they are not at the target. */
  readonly results: readonly TenantMigrationResult[];
  readonly migrated: number;
  readonly failed: number;
  /** Tenants in scope that were already at the target and were not opened. */
  readonly alreadyCurrent: number;
  /** Tenant roles given LOGIN and a credential first (going up, where TENANT_ROLE_LOGIN wants them and they lack one), and those that could not be. */
  readonly roleLogins: RoleLoginGrants;
  readonly durationMs: number;
}

/**
 * Migrates every tenant that is behind (or, going down, ahead of the target),
 * `concurrency` at a time. Each tenant migrates in its own transaction under
 * its own advisory lock, so one tenant's failure is recorded in the result and
 * never stops or undoes another's. It never throws for a tenant's failure.
 *
 * The registry's `template_version` decides who is behind, so a run with
 * nothing pending is one query however many tenants exist. Suspended tenants
 * are migrated too: they keep their data and must match the code when resumed.
 */
export async function migrateTenants(database: Database, template: Template, options: MigrateTenantsOptions): Promise<MigrateTenantsResult> {
  const started = performance.now();
  const { direction } = options;
  const statuses = ['active', 'suspended'] as const;
  const target = direction.direction === 'up' ? template.latestVersion : (direction.toVersion ?? 0);
  const scope = { statuses: [...statuses], slugs: options.slugs };
  const todo = await listTenantsForMigration(
    database.control,
    direction.direction === 'up' ? { ...scope, versionBelow: target } : { ...scope, versionAbove: target },
  );
  const inScopeCount = await countTenantsForMigration(database.control, scope);
  const roleLogins = direction.direction === 'up' ? await grantLoginToTenantRoles(database, options.slugs) : { changed: [], failed: [] };

  const results: TenantMigrationResult[] = [];
  options.onProgress?.({ done: 0, total: todo.length });
  const limit = pLimit(options.concurrency);
  await Promise.all(
    todo.map((tenant) =>
      limit(async () => {
        const result = await migrateOneTenant(database, template, tenant, direction);
        results.push(result);
        options.onProgress?.({ done: results.length, total: todo.length, last: result });
      }),
    ),
  );

  const failed = results.filter((r) => !r.ok).length;
  return {
    results,
    migrated: results.length - failed,
    failed,
    alreadyCurrent: inScopeCount - todo.length,
    roleLogins,
    durationMs: performance.now() - started,
  };
}

async function migrateOneTenant(database: Database, template: Template, tenant: Tenant, direction: MigrationDirection): Promise<TenantMigrationResult> {
  try {
    const outcome = await database.control.transaction().execute((trx) => migrateTenantInTransaction(trx, template, tenant, direction));
    return { slug: tenant.slug, ok: true, from: tenant.template_version, to: outcome.tenant.template_version, files: outcome.names };
  } catch (error) {
    return {
      slug: tenant.slug,
      ok: false,
      from: tenant.template_version,
      code: isSchemataError(error) ? error.code : 'MIGRATION_FAILED',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
