import { performance } from 'node:perf_hooks';
import { createTenant } from '../control/tenants/tenant.service.js';
import { findTenantBySlug } from '../control/registry/tenant.repository.js';
import type { Database } from '../db/database.js';
import type { Template } from '../migrations/template.js';
import { withTenantTransaction } from '../tenancy/tenant-transaction.js';
import { hashPassword } from '../auth/password-hash.js';
import type { UserRole } from '../db/tenant-database.js';
import { readTenantStats } from '../data/stats/tenant-stats.repository.js';
import type { TenantDb } from '../tenancy/tenant-transaction.js';
import { insertDemoData, insertDemoLogins, type DemoSize } from './demo-data.repository.js';

/** Documented in the README: one sign-in per role in every demo tenant. */
export const DEMO_PASSWORD = 'schemata-demo';
export const DEMO_LOGINS: readonly { role: UserRole; localPart: string }[] = [
  { role: 'admin', localPart: 'admin' },
  { role: 'member', localPart: 'member' },
  { role: 'viewer', localPart: 'viewer' },
];

// Two plans, so the demo shows a feature flag: globex, on basic, keeps its
// workflows but gets FEATURE_NOT_IN_PLAN when it asks for them.
const DEMO_TENANTS: readonly { slug: string; name: string; plan: string; size: DemoSize }[] = [
  { slug: 'acme', name: 'Acme Corporation', plan: 'premium', size: { users: 25, projects: 12, deployments: 3000, workflows: 400 } },
  { slug: 'globex', name: 'Globex Inc.', plan: 'basic', size: { users: 15, projects: 8, deployments: 2000, workflows: 250 } },
];

/** The demo tenants' slugs, for `npm start` to tell which are missing. */
export const DEMO_TENANT_SLUGS: readonly string[] = DEMO_TENANTS.map((demo) => demo.slug);

export interface SeedResult {
  readonly slug: string;
  readonly created: boolean;
  readonly plan: string;
  /** False when the tenant already had data, which is left untouched. */
  readonly seeded: boolean;
  readonly rows: DemoSize;
  readonly durationMs: number;
}

/** Creates the demo tenants that are missing and fills those that are empty. Safe to run again. */
export async function seedDemoTenants(database: Database, template: Template): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  // One scrypt for all demo logins: the password is the same everywhere.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const demo of DEMO_TENANTS) {
    const started = performance.now();
    let tenant = await findTenantBySlug(database.control, demo.slug);
    const created = tenant === undefined;
    // An existing tenant keeps its plan: an operator may have changed it.
    tenant ??= (await createTenant(database, template, { slug: demo.slug, name: demo.name, plan: demo.plan })).tenant;
    const outcome = await withTenantTransaction(database, tenant, {}, async (trx) => {
      const before = await demoRows(trx);
      if (before.users + before.projects + before.deployments + before.workflows > 0) return { seeded: false, rows: before };
      await insertDemoData(trx, demo.slug, demo.size);
      await insertDemoLogins(trx, demo.slug, DEMO_LOGINS, passwordHash);
      return { seeded: true, rows: await demoRows(trx) };
    });
    results.push({ slug: demo.slug, created, plan: tenant.plan, ...outcome, durationMs: performance.now() - started });
  }
  return results;
}

export function describeSeedResult(r: SeedResult): string {
  const what = r.seeded ? 'seeded' : 'already has data, left as is';
  const rows = `${r.rows.users} users, ${r.rows.projects} projects, ${r.rows.deployments} deployments, ${r.rows.workflows} workflows`;
  return `${r.slug} (${r.plan}): ${r.created ? 'created, ' : ''}${what} (${rows}) in ${r.durationMs.toFixed(0)} ms`;
}

async function demoRows(trx: TenantDb): Promise<DemoSize> {
  const { users, projects, deployments, workflows } = await readTenantStats(trx);
  return { users, projects, deployments, workflows };
}
