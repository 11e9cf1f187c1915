import type { Kysely } from 'kysely';
import type { ControlDatabase, Tenant, TenantPlan, TenantStatus } from '../../db/control-database.js';

type Db = Kysely<ControlDatabase>;

export interface NewTenantRow {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly schemaName: string;
  /** The column's default (basic) when absent. */
  readonly plan?: TenantPlan | undefined;
}

export async function insertTenant(db: Db, row: NewTenantRow): Promise<Tenant> {
  return db
    .insertInto('control.tenants')
    .values({ id: row.id, slug: row.slug, name: row.name, schema_name: row.schemaName, ...(row.plan !== undefined && { plan: row.plan }) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findTenantBySlug(db: Db, slug: string, options: { forUpdate?: boolean } = {}): Promise<Tenant | undefined> {
  let query = db.selectFrom('control.tenants').selectAll().where('slug', '=', slug);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  return db.selectFrom('control.tenants').selectAll().orderBy('slug').execute();
}

export interface MigrationScope {
  readonly statuses: readonly TenantStatus[];
  readonly versionBelow?: number;
  readonly versionAbove?: number;
  readonly slugs?: readonly string[];
}

function inScope(db: Db, filter: MigrationScope) {
  let query = db.selectFrom('control.tenants').where('status', 'in', filter.statuses);
  if (filter.versionBelow !== undefined) query = query.where('template_version', '<', filter.versionBelow);
  if (filter.versionAbove !== undefined) query = query.where('template_version', '>', filter.versionAbove);
  if (filter.slugs !== undefined) query = query.where('slug', 'in', filter.slugs.length > 0 ? filter.slugs : ['']);
  return query;
}

/** Tenants a fleet run must open. The version filter runs in SQL (index on status, template_version), so a run with nothing pending reads no rows. */
export async function listTenantsForMigration(db: Db, filter: MigrationScope): Promise<Tenant[]> {
  return inScope(db, filter).selectAll().orderBy('slug').execute();
}

export async function countTenantsForMigration(db: Db, filter: MigrationScope): Promise<number> {
  const row = await inScope(db, filter).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setTemplateVersion(db: Db, id: string, version: number): Promise<Tenant> {
  return db
    .updateTable('control.tenants')
    .set({ template_version: version, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteTenantRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('control.tenants').where('id', '=', id).execute();
}

export async function countTenantsByVersion(db: Db): Promise<{ template_version: number; status: TenantStatus; count: number }[]> {
  const rows = await db
    .selectFrom('control.tenants')
    .select(['template_version', 'status', (eb) => eb.fn.countAll<string>().as('count')])
    .groupBy(['template_version', 'status'])
    .orderBy('template_version')
    .orderBy('status')
    .execute();
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}

/** The tenants with these ids, in no particular order; unknown ids are left out. */
export async function findTenantsByIds(db: Db, ids: readonly string[]): Promise<Tenant[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('control.tenants').selectAll().where('id', 'in', ids).execute();
}

export async function findTenantById(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<Tenant | undefined> {
  let query = db.selectFrom('control.tenants').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}


export type TenantChanges = Partial<Pick<Tenant, 'slug' | 'name' | 'status' | 'plan' | 'deleted_at' | 'status_before_delete'>>;

export async function updateTenant(db: Db, id: string, changes: TenantChanges): Promise<Tenant> {
  return db
    .updateTable('control.tenants')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface TenantListFilter {
  readonly statuses?: readonly TenantStatus[];
  readonly plans?: readonly string[];
  readonly versions?: readonly number[];
  /** Slugs or names containing this text, in any case. */
  readonly search?: string;
}

export interface TenantPage extends TenantListFilter {
  /** Keyset: slugs after this one, in the page's order. */
  readonly afterSlug?: string;
  /** Z to A instead of A to Z. */
  readonly descending?: boolean;
  readonly limit: number;
}

function filtered(db: Db, filter: TenantListFilter) {
  let query = db.selectFrom('control.tenants');
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses);
  if (filter.plans?.length) query = query.where('plan', 'in', filter.plans as Tenant['plan'][]);
  if (filter.versions?.length) query = query.where('template_version', 'in', filter.versions);
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('slug', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  return query;
}

export async function listTenantsPage(db: Db, page: TenantPage): Promise<Tenant[]> {
  let query = filtered(db, page).selectAll();
  if (page.afterSlug !== undefined) query = query.where('slug', page.descending ? '<' : '>', page.afterSlug);
  return query.orderBy('slug', page.descending ? 'desc' : 'asc').limit(page.limit).execute();
}

/** How many tenants a filter matches, for a page's "n of m". */
export async function countTenants(db: Db, filter: TenantListFilter): Promise<number> {
  const row = await filtered(db, filter).select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Tenants per value of one registry column, for the fleet overview. */
export async function countTenantsBy(db: Db, column: 'status' | 'plan' | 'template_version'): Promise<{ value: string; count: number }[]> {
  const rows = await db
    .selectFrom('control.tenants')
    .select([(eb) => eb.cast<string>(eb.ref(column), 'text').as('value'), (eb) => eb.fn.countAll<string>().as('count')])
    .groupBy(column)
    .orderBy(column)
    .execute();
  return rows.map((row) => ({ value: row.value, count: Number(row.count) }));
}
