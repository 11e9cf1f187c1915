import type { Kysely, Transaction } from 'kysely';
import type { ControlDatabase, Tenant, TenantStatus } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { SchemataError } from '../../errors.js';
import { lockSchema } from '../../db/schema-locks.js';
import type { Template } from '../../migrations/template.js';
import { requirePlan } from '../plans/plan.service.js';
import { validateSlug, validateTenantName } from '../registry/slug.js';
import { dropTenantSchemaAndRole } from './tenant-schema.repository.js';
import { deleteTenantRow, findTenantById, findTenantBySlug, updateTenant } from '../registry/tenant.repository.js';
import { migrateTenantInTransaction, tenantExists, tenantNotFound } from './tenant.service.js';

/*
 * Every change here commits a registry row, and the registry's trigger
 * (control migration 0002) notifies every server at commit, so a suspension
 * or deletion takes effect on the tenant's next request everywhere.
 * Repeating an operation whose state is already reached is a no-op that
 * returns the tenant, so operator scripts can be re-run safely.
 */

export async function suspendTenant(database: Database, slug: string): Promise<Tenant> {
  return withLockedTenant(database, slug, {}, (trx, tenant) => {
    refuseIfDeleted(tenant, 'suspend');
    return tenant.status === 'suspended' ? tenant : updateTenant(trx, tenant.id, { status: 'suspended' });
  });
}

export async function resumeTenant(database: Database, slug: string): Promise<Tenant> {
  return withLockedTenant(database, slug, {}, (trx, tenant) => {
    refuseIfDeleted(tenant, 'resume');
    return tenant.status === 'active' ? tenant : updateTenant(trx, tenant.id, { status: 'active' });
  });
}

/** Soft delete: the tenant stops resolving (404) but its schema, role and data stay until it is purged. */
export async function softDeleteTenant(database: Database, slug: string): Promise<Tenant> {
  return withLockedTenant(database, slug, {}, (trx, tenant) => {
    if (tenant.status === 'deleted') return tenant;
    return updateTenant(trx, tenant.id, { status: 'deleted', deleted_at: new Date(), status_before_delete: tenant.status });
  });
}

/**
 * Brings a soft-deleted tenant back in the status it had. Fleet migrations
 * skip deleted tenants, so its schema is first brought to the template head,
 * in the same transaction.
 */
export async function restoreTenant(database: Database, template: Template, slug: string): Promise<Tenant> {
  return withLockedTenant(database, slug, { schemaToo: true }, async (trx, tenant) => {
    if (tenant.status !== 'deleted') throw notDeleted(tenant, 'restore');
    if (tenant.template_version < template.latestVersion) await migrateTenantInTransaction(trx, template, tenant);
    return updateTenant(trx, tenant.id, { status: tenant.status_before_delete ?? 'active', deleted_at: null, status_before_delete: null });
  });
}

/** Drops the schema, the role and the registry row (its usage rows cascade). Only a soft-deleted tenant can be purged. */
export async function purgeTenant(database: Database, slug: string): Promise<Tenant> {
  return withLockedTenant(database, slug, { schemaToo: true }, async (trx, tenant) => {
    if (tenant.status !== 'deleted') throw notDeleted(tenant, 'purge');
    await dropTenantSchemaAndRole(trx, tenant.schema_name);
    await deleteTenantRow(trx, tenant.id);
    return tenant;
  });
}

/** A new slug (and optionally name); the schema is named after the id, so no data moves. */
export async function renameTenant(database: Database, slug: string, input: { readonly newSlug: string; readonly name?: string }): Promise<Tenant> {
  const newSlug = validateSlug(input.newSlug);
  const name = input.name === undefined ? undefined : validateTenantName(input.name);
  return withLockedTenant(database, slug, {}, async (trx, tenant) => {
    if (newSlug !== tenant.slug && (await findTenantBySlug(trx, newSlug))) {
      throw tenantExists(newSlug);
    }
    try {
      return await updateTenant(trx, tenant.id, { slug: newSlug, ...(name !== undefined && { name }) });
    } catch (error) {
      // Another rename to the same slug committed between the check and the update.
      if ((error as { code?: string }).code === '23505') throw tenantExists(newSlug);
      throw error;
    }
  });
}

/** Moves the tenant to another plan; its limits apply from the next request (the registry notifies every server). */
export async function changeTenantPlan(database: Database, slug: string, planName: string): Promise<Tenant> {
  return withLockedTenant(database, slug, {}, async (trx, tenant) => {
    refuseIfDeleted(tenant, 'change the plan of');
    const plan = await requirePlan(trx, planName);
    return tenant.plan === plan.name ? tenant : updateTenant(trx, tenant.id, { plan: plan.name });
  });
}

type ControlTrx = Transaction<ControlDatabase> | Kysely<ControlDatabase>;

/**
 * Runs `change` in one control-plane transaction holding the tenant's row
 * lock, so concurrent lifecycle calls serialise. With `schemaToo`, the
 * schema's advisory lock is taken first, in the order migrators take them
 * (schema, then row), so a purge or restore racing a fleet migration waits
 * instead of deadlocking.
 */
async function withLockedTenant<T>(
  database: Database,
  slugInput: string,
  options: { readonly schemaToo?: boolean },
  change: (trx: ControlTrx, tenant: Tenant) => Promise<T> | T,
): Promise<T> {
  const slug = validateSlug(slugInput);
  return database.control.transaction().execute(async (trx) => {
    let tenant: Tenant | undefined;
    if (options.schemaToo) {
      const unlocked = await findTenantBySlug(trx, slug);
      if (!unlocked) throw tenantNotFound(slug);
      await lockSchema(trx, unlocked.schema_name);
      // By id: a rename meanwhile could have given this slug to a tenant whose schema is not the one locked.
      tenant = await findTenantById(trx, unlocked.id, { forUpdate: true });
      if (tenant?.slug !== slug) tenant = undefined;
    } else {
      tenant = await findTenantBySlug(trx, slug, { forUpdate: true });
    }
    if (!tenant) throw tenantNotFound(slug);
    return change(trx, tenant);
  });
}

function refuseIfDeleted(tenant: Tenant, action: string): void {
  if (tenant.status === 'deleted') {
    throw new SchemataError('TENANT_DELETED', `cannot ${action} tenant "${tenant.slug}": it is deleted; restore it first`, { slug: tenant.slug });
  }
}

function notDeleted(tenant: Tenant, action: string): SchemataError {
  const status: TenantStatus = tenant.status;
  return new SchemataError('TENANT_NOT_DELETED', `cannot ${action} tenant "${tenant.slug}": it is ${status}, not deleted; delete it first`, {
    slug: tenant.slug,
    status,
  });
}
