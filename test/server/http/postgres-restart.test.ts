import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import { openDatabase } from '../../../src/db/database.js';
import { ensureEmbeddedPostgres } from '../../../src/db/embedded-postgres.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { fingerprintsIn, ownerOf, seedFingerprintedRows } from '../../helpers/fingerprints.js';
import { testConfig } from '../../helpers/test-database.js';
import { startTestServer } from '../../helpers/test-server.js';

/**
 * Its own embedded cluster, stopped and started again on the same port while
 * requests keep coming: the process must survive, answer 503 (never 500 or
 * another tenant's rows) during the outage, and recover without help.
 */
describe('a PostgreSQL restart under load', () => {
  const dataDir = path.join(PROJECT_ROOT, '.data', `test-restart-${randomBytes(3).toString('hex')}`);
  afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('requests fail fast with 503 during the outage and succeed again afterwards', async () => {
    let postgres = await ensureEmbeddedPostgres({ dataDir, unsafeFastWrites: true });
    const port = postgres.port;
    const database = await openDatabase(testConfig({ databaseUrl: postgres.url, poolSize: 8 }));
    const templates = await loadTemplates(testConfig().templatesDir);
    await migrateControlPlane(database, templates.control);
    const tenant = (await createTenant(database, templates.tenant, { slug: 'restart' })).tenant;
    await seedFingerprintedRows(database, tenant);
    // The cache off: every request must reach the database to see the outage.
    const server = await startTestServer({ database, yoga: { config: testConfig({ responseCacheTtlMs: 0 }) } });
    const token = await server.tokenFor(tenant.slug, 'viewer');

    const tally = { ok: 0, unavailable: 0, other: 0, wrongRows: 0 };
    let firstOkAfterRestart: number | undefined;
    let restartedAt: number | undefined;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const started = performance.now();
        const response = await server.graphql(tenant.slug, '{ deployments(first: 5) { edges { node { url } } } }', {}, { as: { token } });
        const code = response.body.errors?.[0]?.extensions?.code;
        if (response.status === 200 && !response.body.errors) {
          tally.ok++;
          tally.wrongRows += fingerprintsIn(response.body.data).filter((value) => ownerOf(value) !== tenant.slug).length;
          if (restartedAt !== undefined && firstOkAfterRestart === undefined) firstOkAfterRestart = Date.now();
        } else if (response.status === 503 && code === 'DATABASE_UNAVAILABLE') {
          tally.unavailable++;
          // Failing fast: well inside the pool's 10 s connection timeout.
          expect(performance.now() - started).toBeLessThan(5_000);
        } else {
          tally.other++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      postgres = await ensureEmbeddedPostgres({ dataDir, unsafeFastWrites: true, port });
      restartedAt = Date.now();
      const deadline = Date.now() + 15_000;
      while (firstOkAfterRestart === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      stop = true;
      await Promise.all(workers);
      await server.close();
      await database.close();
      await postgres.stop();
    }
    const recoveryMs = firstOkAfterRestart === undefined ? undefined : firstOkAfterRestart - restartedAt!;
    console.log(`postgres restart: ${JSON.stringify({ ...tally, recoveryMs })}`);
    expect(tally.other).toBe(0);
    expect(tally.wrongRows).toBe(0);
    expect(tally.unavailable).toBeGreaterThan(0);
    expect(recoveryMs).toBeDefined();
    expect(recoveryMs!).toBeLessThan(10_000);
    expect(tally.ok).toBeGreaterThan(0);
  });
});
