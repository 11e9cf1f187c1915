import { sql } from 'kysely';
import type { TenantDb } from '../tenancy/tenant-transaction.js';

export interface DemoSize {
  readonly users: number;
  readonly projects: number;
  readonly deployments: number;
  readonly workflows: number;
}

/**
 * Bulk, deterministic demo rows: ids are md5(slug:kind:n) and timestamps count
 * from a fixed epoch, so two seeds of the same tenant are identical.
 */
export async function insertDemoData(trx: TenantDb, slug: string, size: DemoSize): Promise<void> {
  const domain = `${slug.replaceAll('_', '-')}.example`;
  const epoch = '2026-01-01T00:00:00Z';

  await sql`
    INSERT INTO users (id, email, name, role, created_at, updated_at)
    SELECT md5(${slug} || ':user:' || i)::uuid,
           lower(first) || '.' || lower(last) || '@' || ${domain},
           first || ' ' || last,
           CASE WHEN i = 1 THEN 'admin' WHEN i % 5 = 0 THEN 'viewer' ELSE 'member' END,
           ${epoch}::timestamptz + i * interval '1 day',
           ${epoch}::timestamptz + i * interval '1 day'
    FROM generate_series(1, ${size.users}) AS i,
         LATERAL (SELECT (ARRAY['Ada','Grace','Alan','Barbara','Edsger','Frances','Ken','Margaret','Dennis','Radia'])[1 + i % 10] AS first,
                         (ARRAY['Lovelace','Hopper','Turing','Liskov','Dijkstra','Allen','Thompson','Hamilton','Ritchie','Perlman'])[1 + (i / 10) % 10] AS last) AS n
  `.execute(trx);

  await sql`
    INSERT INTO projects (id, name, description, created_by, created_at, updated_at)
    SELECT md5(${slug} || ':project:' || i)::uuid,
           base || CASE WHEN i > 12 THEN '-' || i ELSE '' END,
           'The ' || base || ' service of ' || ${slug},
           md5(${slug} || ':user:' || (1 + i % ${size.users}))::uuid,
           ${epoch}::timestamptz + i * interval '2 days',
           ${epoch}::timestamptz + i * interval '2 days'
    FROM generate_series(1, ${size.projects}) AS i,
         LATERAL (SELECT (ARRAY['api-gateway','web-dashboard','billing','auth','search','notifications','mobile-backend','data-pipeline','docs','admin-console','media-cdn','analytics'])[1 + (i - 1) % 12] AS base) AS n
  `.execute(trx);

  // Mostly archived history, a third live, a few failures, and the newest few still in flight.
  await sql`
    INSERT INTO deployments (id, project_id, status, environment, url, created_by, created_at, updated_at, finished_at)
    SELECT md5(${slug} || ':deployment:' || i)::uuid,
           md5(${slug} || ':project:' || (1 + i % ${size.projects}))::uuid,
           status,
           (ARRAY['production','staging','preview'])[1 + i % 3],
           'https://d' || substr(md5(${slug} || ':url:' || i), 1, 10) || '.' || ${domain},
           md5(${slug} || ':user:' || (1 + i % ${size.users}))::uuid,
           created,
           created + interval '90 seconds',
           CASE WHEN status IN ('pending','building') THEN NULL ELSE created + (60 + i % 240) * interval '1 second' END
    FROM generate_series(1, ${size.deployments}) AS i,
         LATERAL (SELECT CASE
                    WHEN i > ${size.deployments} - 2 THEN 'pending'
                    WHEN i > ${size.deployments} - 5 THEN 'building'
                    WHEN i % 11 = 0 THEN 'failed'
                    WHEN i % 3 = 0 THEN 'active'
                    ELSE 'archived' END AS status,
                  ${epoch}::timestamptz + i * interval '37 minutes' AS created) AS d
  `.execute(trx);

  await sql`
    INSERT INTO workflows (id, name, status, config, created_at, updated_at)
    SELECT md5(${slug} || ':workflow:' || i)::uuid,
           (ARRAY['Nightly build','Deploy preview','Run migrations','Rotate secrets','Smoke tests','Backup database','Purge cache','Release notes'])[1 + i % 8] || ' #' || i,
           CASE WHEN i % 10 = 0 THEN 'disabled' WHEN i % 10 IN (1, 2) THEN 'paused' ELSE 'active' END,
           jsonb_build_object(
             'trigger', (ARRAY['push','schedule','manual'])[1 + i % 3],
             'branch', (ARRAY['main','release','develop'])[1 + i % 3],
             'timeoutMinutes', 10 + i % 50,
             'steps', jsonb_build_array('checkout', 'install', (ARRAY['build','test','deploy'])[1 + i % 3])),
           ${epoch}::timestamptz + i * interval '5 hours',
           ${epoch}::timestamptz + i * interval '5 hours'
    FROM generate_series(1, ${size.workflows}) AS i
  `.execute(trx);

  await sql`
    INSERT INTO audit_log (action, entity_type, details)
    VALUES ('tenant.seeded', 'tenant', ${JSON.stringify(size)}::jsonb)
  `.execute(trx);
}

/** Users `<role>@<slug>.example` that can sign in with the documented demo password. */
export async function insertDemoLogins(
  trx: TenantDb,
  slug: string,
  logins: readonly { role: string; localPart: string }[],
  passwordHash: string,
): Promise<void> {
  const domain = `${slug.replaceAll('_', '-')}.example`;
  await trx
    .insertInto('users')
    .values(
      logins.map((login) => ({
        email: `${login.localPart}@${domain}`,
        name: `Demo ${login.role}`,
        role: login.role as 'viewer' | 'member' | 'admin',
        password_hash: passwordHash,
      })),
    )
    .execute();
}
