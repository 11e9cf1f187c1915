import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { randomSecret } from '../../auth/random-secret.js';
import { insertTenantAuth, setHmacSecret } from '../../auth/tenant-auth.repository.js';
import type { Database } from '../../db/database.js';
import type { ControlDatabase, Tenant, TenantPlan } from '../../db/control-database.js';
import { tenantSchemaName } from '../../db/identifiers.js';
import { SchemataError } from '../../errors.js';
import { migrateSchema, type MigrationDirection } from '../../migrations/migrate-schema.js';
import type { Template } from '../../migrations/template.js';
import { requirePlan } from '../plans/plan.service.js';
import { validateSlug, validateTenantName } from '../registry/slug.js';
import { createTenantSchemaAndRole, revokeLedgerAccess, type TenantRoleOptions } from './tenant-schema.repository.js';
import { findTenantBySlug, insertTenant, setTemplateVersion } from '../registry/tenant.repository.js';

export interface CreateTenantInput {
  readonly slug: string;
  readonly name?: string | undefined;
  /** The registry's default (basic) when absent; PLAN_NOT_FOUND if no such plan. */
  readonly plan?: TenantPlan | undefined;
}

export interface CreatedTenant {
  readonly tenant: Tenant;
  readonly durationMs: number;
}

export interface ProvisionOptions {
  /** Build the schema only up to this template version (import and clone load rows there, then migrate to head). */
  readonly toVersion?: number | undefined;
}

export function tenantLabel(tenant: Pick<Tenant, 'slug'>): string {
  return `tenant "${tenant.slug}"`;
}

/**
 * Provisions a tenant: registry row, schema, role, every template migration
 * and grants, all in one transaction, so a failure at any step leaves no row,
 * schema or role behind. Input is validated before any SQL runs.
 */
export async function createTenant(database: Database, template: Template, input: CreateTenantInput): Promise<CreatedTenant> {
  const slug = validateSlug(input.slug);
  const name = validateTenantName(input.name ?? slug);
  const started = performance.now();
  const tenant = await database.control.transaction().execute((trx) => provisionTenantInTransaction(trx, template, database, { slug, name, plan: input.plan }));
  return { tenant, durationMs: performance.now() - started };
}

/**
 * The steps of provisioning, inside a transaction the caller owns (create,
 * import and clone), so the caller's own work commits or rolls back with
 * them: registry row (TENANT_EXISTS if the slug is taken), a new signing
 * secret, schema and role, template migrations (to `toVersion` or the head),
 * the ledger kept from the tenant role, and the registry's template version.
 */
export async function provisionTenantInTransaction(
  trx: Kysely<ControlDatabase>,
  template: Template,
  roles: TenantRoleOptions,
  input: CreateTenantInput,
  options: ProvisionOptions = {},
): Promise<Tenant> {
  const slug = validateSlug(input.slug);
  const name = validateTenantName(input.name ?? slug);
  const id = randomUUID();
  const schemaName = tenantSchemaName(id);

  if (await findTenantBySlug(trx, slug)) throw tenantExists(slug);
  if (input.plan !== undefined) await requirePlan(trx, input.plan);
  let row: Tenant;
  try {
    row = await insertTenant(trx, { id, slug, name, schemaName, plan: input.plan });
  } catch (error) {
    // A concurrent create of the same slug passed the check above.
    if ((error as { code?: string }).code === '23505') throw tenantExists(slug);
    throw error;
  }
  await insertTenantAuth(trx, row.id, randomSecret());
  await createTenantSchemaAndRole(trx, schemaName, roles);
  return (await migrateTenantInTransaction(trx, template, row, { direction: 'up', toVersion: options.toVersion })).tenant;
}

/**
 * Migrates a tenant's schema (up, to `toVersion` or the head; or down), keeps
 * the ledger from the tenant role and records the version: the one way every
 * caller migrates a tenant, inside a transaction the caller owns.
 */
export async function migrateTenantInTransaction(
  trx: Kysely<ControlDatabase>,
  template: Template,
  tenant: Tenant,
  direction: MigrationDirection = { direction: 'up' },
): Promise<{ readonly tenant: Tenant; readonly names: readonly string[] }> {
  const { version, names } = await migrateSchema(trx, tenant.schema_name, template, tenantLabel(tenant), direction);
  await revokeLedgerAccess(trx, tenant.schema_name);
  return { tenant: await setTemplateVersion(trx, tenant.id, version), names };
}

export async function getTenant(database: Database, slugInput: string): Promise<Tenant> {
  const slug = validateSlug(slugInput);
  const tenant = await findTenantBySlug(database.control, slug);
  if (!tenant) throw tenantNotFound(slug);
  return tenant;
}

export function tenantExists(slug: string): SchemataError {
  return new SchemataError('TENANT_EXISTS', `a tenant with slug "${slug}" already exists`, { slug });
}

export function tenantNotFound(slug: string): SchemataError {
  return new SchemataError('TENANT_NOT_FOUND', `no tenant with slug "${slug}"`, { slug });
}

/**
 * Replaces the tenant's signing secret: every access token it issued stops
 * verifying at once (servers drop the cached key on the change notification).
 * Refresh tokens are not signed and keep working, so clients recover by refreshing.
 */
export async function rotateSigningKey(database: Database, slugInput: string): Promise<Tenant> {
  const tenant = await getTenant(database, slugInput);
  await setHmacSecret(database.control, tenant.id, randomSecret());
  return tenant;
}
