import { sql } from 'kysely';
import { createDeployment, updateDeploymentStatus } from '../../src/data/deployments/deployment.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { ENVIRONMENTS, now, tenantHost, type ChangedDeployment, type Environment } from './subscription-plan.js';
import type { Commit } from './subscription-results.js';

/** Pending deployments kept for the warm-up's status changes, one per round. */
export const WARM_UP_ROUNDS = 3;

export interface MutatedTenant {
  readonly tenant: Tenant;
  readonly host: string;
  /** Its two projects' ids (uuids), in name order. */
  readonly projects: readonly string[];
  /** Pending deployments made beforehand, so each status change of the run moves a deployment nothing else touches. */
  readonly pending: readonly { readonly id: string; readonly project: number; readonly environment: Environment }[];
}

/**
 * Each deployment changes once in a run: an event carries the node as it is
 * when the event is loaded, so a second change could make the first one's
 * event look like the second's and the expected count would be a guess.
 */
export async function prepareTenant(database: Database, tenant: Tenant, pendingCount: number): Promise<MutatedTenant> {
  const host = tenantHost(tenant.slug);
  return withTenantTransaction(database, tenant, {}, async (db) => {
    const projects = (await sql<{ id: string }>`SELECT id FROM projects ORDER BY name`.execute(db)).rows.map((r) => r.id);
    const pending = await sql<{ id: string; project_id: string; environment: Environment }>`
      INSERT INTO deployments (project_id, status, environment, url)
      SELECT ((${projects})::uuid[])[1 + i % 2], 'pending', ((${[...ENVIRONMENTS]})::text[])[1 + (i + 1) % 3], 'https://' || ${host} || '/pending/' || i
      FROM generate_series(0, ${pendingCount - 1}) i
      RETURNING id, project_id, environment`.execute(db);
    return { tenant, host, projects, pending: pending.rows.map((r) => ({ id: r.id, project: projects.indexOf(r.project_id), environment: r.environment })) };
  });
}

/** createDeployment as the mutation runs it, in the tenant's transaction; the time is taken once COMMIT has returned. */
export async function createIn(database: Database, t: MutatedTenant, project: number, environment: Environment, label: string): Promise<{ id: string; committedAt: number; change: ChangedDeployment }> {
  const deployment = await withTenantTransaction(database, t.tenant, {}, (db) =>
    createDeployment(db, null, { projectId: t.projects[project]!, environment, url: `https://${t.host}/${label}` }),
  );
  return { id: deployment.id, committedAt: now(), change: { project, environment, status: 'PENDING' } };
}

/** updateDeploymentStatus pending → building on one of the tenant's prepared deployments. */
export async function startBuilding(database: Database, t: MutatedTenant, pendingIndex: number): Promise<{ id: string; committedAt: number; change: ChangedDeployment }> {
  const target = t.pending[pendingIndex]!;
  await withTenantTransaction(database, t.tenant, {}, (db) => updateDeploymentStatus(db, null, { id: target.id, status: 'building' }));
  return { id: target.id, committedAt: now(), change: { project: target.project, environment: target.environment, status: 'BUILDING' } };
}

/** Status changes the burst makes in its busiest tenant: mutation i goes to tenant i mod n, alternating creates and status changes there. */
export const burstUpdatesPerTenant = (mutations: number, tenants: number) => Math.floor(Math.ceil(mutations / tenants) / 2);

/**
 * The burst, open loop: mutation i is sent at start + i / rate whether or not
 * the ones before it have committed, so a slow commit does not slow the rate.
 */
export async function runBurst(
  database: Database,
  tenants: readonly MutatedTenant[],
  options: { rate: number; seconds: number; onProgress?: (message: string) => void },
): Promise<{ commits: Commit[]; failures: string[] }> {
  const total = options.rate * options.seconds;
  const interval = 1000 / options.rate;
  const commits: Commit[] = [];
  const failures: string[] = [];
  const start = now() + 20;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduledAt = start + i * interval;
    const wait = scheduledAt - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const index = i % tenants.length;
    const t = tenants[index]!;
    const k = Math.floor(i / tenants.length);
    const mutation =
      k % 2 === 0
        ? createIn(database, t, (k / 2) % 2, ENVIRONMENTS[(k / 2) % ENVIRONMENTS.length]!, `burst/${i}`)
        : startBuilding(database, t, WARM_UP_ROUNDS + (k - 1) / 2);
    inFlight.push(
      mutation.then(
        (done) => void commits.push({ tenant: index, scheduledAt, ...done }),
        (error: unknown) => void failures.push(error instanceof Error ? error.message : String(error)),
      ),
    );
    if ((i + 1) % options.rate === 0) options.onProgress?.(`burst: ${i + 1}/${total} mutations sent, ${commits.length} committed`);
  }
  await Promise.all(inFlight);
  return { commits, failures };
}
