import { sql } from 'kysely';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';

/**
 * Rows that say whose they are: project and workflow names are
 * `<slug>|kind|n` and deployment URLs are https://<slug>.example/n, so any
 * row in a response can be checked against the tenant that asked.
 */
export async function seedFingerprintedRows(database: Database, tenant: Tenant, size = { projects: 5, deployments: 60, workflows: 20 }): Promise<void> {
  const slug = tenant.slug;
  await withTenantTransaction(database, tenant, {}, async (db) => {
    await sql`INSERT INTO projects (name) SELECT ${slug} || '|project|' || i FROM generate_series(1, ${size.projects}) i`.execute(db);
    await sql`
      INSERT INTO deployments (project_id, status, url, created_at)
      SELECT (SELECT id FROM projects ORDER BY name OFFSET (i % ${size.projects}) LIMIT 1),
             (ARRAY['active','archived','failed'])[1 + i % 3],
             'https://' || replace(${slug}, '_', '-') || '.example/' || i,
             now() - i * interval '1 minute'
      FROM generate_series(1, ${size.deployments}) i`.execute(db);
    await sql`INSERT INTO workflows (name) SELECT ${slug} || '|workflow|' || i FROM generate_series(1, ${size.workflows}) i`.execute(db);
  });
}

/** The owner a fingerprinted value names, or undefined for a value that carries none. */
export function ownerOf(value: string): string | undefined {
  if (value.startsWith('https://')) return new URL(value).hostname.replace(/\.example$/, '').replaceAll('-', '_');
  if (value.includes('|')) return value.split('|')[0];
  return undefined;
}

/** Every fingerprinted string anywhere in a JSON value. */
export function fingerprintsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    if (ownerOf(value) !== undefined) found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) fingerprintsIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) fingerprintsIn(item, found);
  }
  return found;
}
