import { countTenantsByVersion, listTenantsForMigration } from '../registry/tenant.repository.js';
import type { Tenant, TenantStatus } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { CONTROL_SCHEMA } from '../../db/identifiers.js';
import { findDrift, type DriftProblem } from '../../migrations/drift.js';
import { readLedgers, schemasWithLedger, type AppliedMigration } from '../../migrations/ledger.repository.js';
import type { Template } from '../../migrations/template.js';

export interface MigrationStatus {
  readonly control: {
    readonly latestVersion: number;
    readonly applied: readonly string[];
    readonly pending: readonly string[];
    readonly drift: readonly DriftProblem[];
  };
  readonly tenants: {
    readonly latestVersion: number;
    readonly total: number;
    readonly byVersion: readonly { readonly version: number; readonly status: TenantStatus; readonly count: number }[];
    /** Every tenant that is not deleted, with its registry version. */
    readonly versions: readonly { readonly slug: string; readonly version: number; readonly status: TenantStatus }[];
    readonly behind: readonly { readonly slug: string; readonly version: number; readonly status: TenantStatus }[];
    readonly drift: readonly { readonly slug: string; readonly file: string; readonly problem: string }[];
  };
}

/** How many ledgers one drift-scan query reads. */
const LEDGER_BATCH = 500;

/**
 * Versions come from the registry; drift comes from every tenant's own ledger,
 * read in batches, and compared with the template files. A tenant whose ledger
 * disagrees with its registry version is reported as drift too.
 */
export async function migrationStatus(database: Database, templates: { control: Template; tenant: Template }): Promise<MigrationStatus> {
  const control = await controlStatus(database, templates.control);
  if (control.applied.length === 0) {
    return { control, tenants: { latestVersion: templates.tenant.latestVersion, total: 0, byVersion: [], versions: [], behind: [], drift: [] } };
  }

  const template = templates.tenant;
  const byVersion = (await countTenantsByVersion(database.control)).map((row) => ({
    version: row.template_version,
    status: row.status,
    count: row.count,
  }));
  const live = await listTenantsForMigration(database.control, { statuses: ['active', 'suspended'] });
  const tenantVersions = live.map((tenant) => ({ slug: tenant.slug, version: tenant.template_version, status: tenant.status }));
  const behind = tenantVersions.filter((tenant) => tenant.version < template.latestVersion);

  const drift: { slug: string; file: string; problem: string }[] = [];
  for (let i = 0; i < live.length; i += LEDGER_BATCH) {
    const batch = live.slice(i, i + LEDGER_BATCH);
    const ledgers = await readExistingLedgers(database, batch.map((t) => t.schema_name));
    for (const tenant of batch) {
      for (const problem of tenantDrift(template, tenant, ledgers.get(tenant.schema_name))) drift.push({ slug: tenant.slug, ...problem });
    }
  }

  const total = byVersion.reduce((sum, row) => sum + row.count, 0);
  return { control, tenants: { latestVersion: template.latestVersion, total, byVersion, versions: tenantVersions, behind, drift } };
}

async function controlStatus(database: Database, template: Template): Promise<MigrationStatus['control']> {
  const ledger = (await readExistingLedgers(database, [CONTROL_SCHEMA])).get(CONTROL_SCHEMA) ?? [];
  const applied = new Set(ledger.map((row) => row.name));
  return {
    latestVersion: template.latestVersion,
    applied: [...applied],
    pending: template.migrations.filter((m) => !applied.has(m.name)).map((m) => m.name),
    drift: findDrift(template, ledger),
  };
}

/** The ledgers of those schemas that exist and have one. */
export async function readExistingLedgers(database: Database, schemas: readonly string[]): Promise<Map<string, AppliedMigration[]>> {
  const present = await schemasWithLedger(database.control, schemas);
  return readLedgers(database.control, [...present]);
}

/**
 * What is wrong with one tenant's schema: a missing schema or ledger, files
 * edited or unknown to the template, and a ledger that disagrees with the
 * registry's version.
 */
export function tenantDrift(
  template: Template,
  tenant: Pick<Tenant, 'schema_name' | 'template_version'>,
  ledger: readonly AppliedMigration[] | undefined,
): DriftProblem[] {
  if (!ledger) return [{ file: '-', problem: `schema ${tenant.schema_name} or its migration ledger is missing` }];
  const problems = findDrift(template, ledger);
  const versions = new Map(template.migrations.map((m) => [m.name, m.version]));
  const ledgerVersion = Math.max(0, ...ledger.map((row) => versions.get(row.name) ?? 0));
  if (ledgerVersion !== tenant.template_version) {
    problems.push({ file: '-', problem: `registry says version ${tenant.template_version}, the schema's ledger says ${ledgerVersion}` });
  }
  return problems;
}
