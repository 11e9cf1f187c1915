import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates, type Templates } from '../../src/migrations/template.js';
import { openScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database.js';
import { TEMPLATES_DIR, uniqueSlug } from '../helpers/test-database.js';

interface SeenCreateSchema {
  readonly command: string;
  /** citus.enable_schema_based_sharding as the command saw it; null when never set in the session. */
  readonly sharding: string | null;
}

/**
 * On a Citus coordinator with schema-based sharding on, every CREATE SCHEMA
 * that Citus's utility hook sees distributes its schema, even IF NOT EXISTS on
 * one that exists. Without Citus, an event trigger at ddl_command_start sees
 * exactly what that hook sees: each CREATE SCHEMA, and the setting at that moment.
 */
describe('creating the control schema (Citus-safe)', () => {
  let scratch: ScratchDatabase;
  let templates: Templates;

  const seen = async (): Promise<SeenCreateSchema[]> =>
    (await sql<SeenCreateSchema>`SELECT command, sharding FROM public.seen_create_schema ORDER BY id`.execute(scratch.database.control)).rows;

  beforeAll(async () => {
    // One connection, so the tenant below reuses the one the control migration ran on: a session-level setting would still be there.
    scratch = await openScratchDatabase({ poolSize: 1 });
    templates = await loadTemplates(TEMPLATES_DIR);
    await sql`
      CREATE TABLE public.seen_create_schema (id serial PRIMARY KEY, command text NOT NULL, sharding text);
      CREATE FUNCTION public.see_create_schema() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO public.seen_create_schema (command, sharding)
        VALUES (current_query(), current_setting('citus.enable_schema_based_sharding', true));
      END $fn$;
      CREATE EVENT TRIGGER see_create_schema ON ddl_command_start WHEN TAG IN ('CREATE SCHEMA') EXECUTE FUNCTION public.see_create_schema();
    `.execute(scratch.database.control);
  });
  afterAll(() => scratch?.drop());

  it('creates the schema once, with schema-based sharding off for that transaction only', async () => {
    await migrateControlPlane(scratch.database, templates.control);
    const first = await seen();
    expect(first).toEqual([{ command: expect.stringMatching(/^CREATE SCHEMA "control"$/), sharding: 'off' }]);

    // A second run finds the schema in the catalog and sends no CREATE SCHEMA at all (IF NOT EXISTS would reach Citus's hook).
    await migrateControlPlane(scratch.database, templates.control);
    expect(await seen()).toEqual(first);

    // The setting was transaction-local: a tenant schema made afterwards, on a pooled connection, sees it as the server has it.
    await createTenant(scratch.database, templates.tenant, { slug: uniqueSlug('citus') });
    const after = await seen();
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ command: expect.stringMatching(/^CREATE SCHEMA "tenant_[0-9a-f]{32}"$/) });
    expect(after[1]!.sharding ?? '').not.toBe('off');
  });

  it('negative control: the trigger does see CREATE SCHEMA IF NOT EXISTS on the existing schema', async () => {
    const before = (await seen()).length;
    await sql`CREATE SCHEMA IF NOT EXISTS control`.execute(scratch.database.control);
    expect(await seen()).toHaveLength(before + 1);
  });
});
