import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { insertTenantAuth, setHmacSecret } from '../auth/tenant-auth.repository.js';
import type { Database } from '../db/database.js';
import type { ControlDatabase, Tenant, TenantPlan } from '../db/control-database.js';
import { tenantSchemaName } from '../db/identifiers.js';
import { SchemataError } from '../errors.js';
import { lockSchema, migrateSchema } from '../migrations/migrate-schema.js';
import type { Template } from '../migrations/template.js';
import { validateSlug, validateTenantName } from './slug.js';
import { createTenantSchemaAndRole, dropTenantSchemaAndRole, revokeLedgerAccess } from './tenant-schema.repository.js';
import { deleteTenantRow, findTenantBySlug, insertTenant, setTemplateVersion } from './tenant.repository.js';

export interface CreateTenantInput {
  readonly slug: string;
  readonly name?: string | undefined;
}

export interface CreatedTenant {
  readonly tenant: Tenant;
  readonly durationMs: number;
}

export interface ProvisionTenantInput extends CreateTenantInput {
  /** The registry's default (basic) when absent. */
  readonly plan?: TenantPlan | undefined;
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
  const tenant = await database.control.transaction().execute((trx) => provisionTenantInTransaction(trx, template, { slug, name }));
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
  input: ProvisionTenantInput,
  options: ProvisionOptions = {},
): Promise<Tenant> {
  const slug = validateSlug(input.slug);
  const name = validateTenantName(input.name ?? slug);
  const id = randomUUID();
  const schemaName = tenantSchemaName(id);

  if (await findTenantBySlug(trx, slug)) throw tenantExists(slug);
  let row: Tenant;
  try {
    row = await insertTenant(trx, { id, slug, name, schemaName, plan: input.plan });
  } catch (error) {
    // A concurrent create of the same slug passed the check above.
    if ((error as { code?: string }).code === '23505') throw tenantExists(slug);
    throw error;
  }
  await insertTenantAuth(trx, row.id, newSigningSecret());
  await createTenantSchemaAndRole(trx, schemaName);
  return migrateTenantInTransaction(trx, template, row, options);
}

/** Migrates a tenant's schema up (to `toVersion` or the head), keeps the ledger from the tenant role and records the version. */
export async function migrateTenantInTransaction(
  trx: Kysely<ControlDatabase>,
  template: Template,
  tenant: Tenant,
  options: ProvisionOptions = {},
): Promise<Tenant> {
  const { version } = await migrateSchema(trx, tenant.schema_name, template, tenantLabel(tenant), { direction: 'up', toVersion: options.toVersion });
  await revokeLedgerAccess(trx, tenant.schema_name);
  return setTemplateVersion(trx, tenant.id, version);
}

/** Drops the tenant's schema, role and registry row. Irreversible, hence `force`. */
export async function deleteTenant(database: Database, slugInput: string, options: { force: boolean }): Promise<Tenant> {
  const slug = validateSlug(slugInput);
  if (!options.force) {
    throw new SchemataError(
      'FORCE_REQUIRED',
      `deleting tenant "${slug}" drops its schema and all its data; repeat with --force to confirm`,
    );
  }
  return database.control.transaction().execute(async (trx) => {
    const tenant = await findTenantBySlug(trx, slug, { forUpdate: true });
    if (!tenant) throw tenantNotFound(slug);
    await lockSchema(trx, tenant.schema_name);
    await dropTenantSchemaAndRole(trx, tenant.schema_name);
    await deleteTenantRow(trx, tenant.id);
    return tenant;
  });
}

export async function getTenant(database: Database, slugInput: string): Promise<Tenant> {
  const slug = validateSlug(slugInput);
  const tenant = await findTenantBySlug(database.control, slug);
  if (!tenant) throw tenantNotFound(slug);
  return tenant;
}

function tenantExists(slug: string): SchemataError {
  return new SchemataError('TENANT_EXISTS', `a tenant with slug "${slug}" already exists`, { slug });
}

export function tenantNotFound(slug: string): SchemataError {
  return new SchemataError('TENANT_NOT_FOUND', `no tenant with slug "${slug}"`, { slug });
}

/** 256 random bits for a tenant's HS256 signing secret. */
function newSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Replaces the tenant's signing secret: every access token it issued stops
 * verifying at once (servers drop the cached key on the change notification).
 * Refresh tokens are not signed and keep working, so clients recover by refreshing.
 */
export async function rotateSigningKey(database: Database, slugInput: string): Promise<Tenant> {
  const tenant = await getTenant(database, slugInput);
  await setHmacSecret(database.control, tenant.id, newSigningSecret());
  return tenant;
}
