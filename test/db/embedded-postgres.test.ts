import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { ensureEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { runProcess, TSX } from '../helpers/run-process.js';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('the embedded PostgreSQL', () => {
  // Its own cluster, so this test runs the same whether or not the suite itself uses an embedded one.
  const dataDir = path.join(PROJECT_ROOT, '.data', `test-embedded-${randomBytes(3).toString('hex')}`);
  afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('a second process reuses the running instance, leaves it running, and the owner stops it cleanly; a restart keeps the port', async () => {
    const owner = await ensureEmbeddedPostgres({ dataDir, unsafeFastWrites: true });
    try {
      expect(owner.owned).toBe(true);

      const second = await runProcess(TSX, ['test/fixtures/attach-embedded.ts', dataDir]);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toEqual({ owned: false, port: owner.port });
      expect(await answers(owner.url)).toBe(true);
    } finally {
      await owner.stop();
    }
    expect(await answers(owner.url)).toBe(false);
    await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();

    // With no server running, the next process starts (and then stops) its own.
    const third = await runProcess(TSX, ['test/fixtures/attach-embedded.ts', dataDir]);
    expect(third.code).toBe(0);
    // On the port it had: the banner's psql command and a copied DATABASE_URL keep working across restarts.
    expect(JSON.parse(third.stdout)).toEqual({ owned: true, port: owner.port });
    await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();
  });
});
