import { sql } from 'kysely';
import { MigrationError, Umzug } from 'umzug';
import type { AnyKysely } from '../db/any-kysely.js';
import { lockSchema } from '../db/schema-locks.js';
import { SchemataError } from '../errors.js';
import { enterScope } from '../tenancy/transaction-scope.js';
import { createChecksumStorage } from './checksum-storage.js';
import { ensureMigrationTable, readAppliedMigrations } from './ledger.repository.js';
import { findDrift, type DriftProblem } from './drift.js';
import type { Template } from './template.js';

/**
 * `up` applies every pending file, or with `toVersion` only those numbered up
 * to it (import builds a schema at an export's version before loading rows);
 * `down` reverts the newest file, or every file above `toVersion`.
 */
export type MigrationDirection =
  | { readonly direction: 'up'; readonly toVersion?: number }
  | { readonly direction: 'down'; readonly toVersion?: number };

export interface SchemaMigrationOutcome {
  /** Files applied (up) or reverted (down), in the order they ran. */
  readonly names: readonly string[];
  /** Version of the newest applied file afterwards. */
  readonly version: number;
}

/**
 * Brings one schema to the template's head (or back down) with Umzug. It must
 * be called inside a transaction the caller owns, so that every file applies
 * or none does, together with whatever the caller records (registry version,
 * a new tenant's row). It takes the schema's advisory lock first, then reads
 * what is applied, so a second migrator that waited sees the first one's work.
 *
 * @param label names the schema's owner in errors, e.g. `tenant "acme"`.
 */
export async function migrateSchema(
  trx: AnyKysely,
  schema: string,
  template: Template,
  label: string,
  direction: MigrationDirection,
): Promise<SchemaMigrationOutcome> {
  await lockSchema(trx, schema);
  // search_path only: the owner creates the objects (see TransactionScope).
  await enterScope(trx, { searchPath: schema });
  // Citus refuses triggers on distributed tables unless this is on; it then
  // runs them on the worker holding the shard, where tenant migration 0004
  // keeps them from notifying (a NOTIFY there breaks Citus's two-phase
  // commit). On plain PostgreSQL it is an unused placeholder setting.
  await sql`SELECT set_config('citus.enable_unsafe_triggers', 'on', true)`.execute(trx);
  await ensureMigrationTable(trx);

  const applied = await readAppliedMigrations(trx);
  const drift = findDrift(template, applied);
  if (drift.length > 0) throw driftError(label, schema, drift);

  const byName = new Map(template.migrations.map((m) => [m.name, m]));
  const storage = createChecksumStorage(byName, applied.map((row) => row.name));
  const umzug = new Umzug<AnyKysely>({
    context: trx,
    logger: undefined,
    storage,
    migrations: template.migrations.map((migration) => ({
      name: migration.name,
      // One statement per query, all in the caller's transaction (see TemplateMigration.up).
      up: async ({ context }) => {
        for (const statement of migration.up) await sql.raw(statement).execute(context);
      },
      down: async ({ context }) => {
        if (migration.down === undefined) {
          throw new SchemataError('NO_DOWN_MIGRATION', `${label}: ${migration.name} has no "-- migrate:down" section, so it cannot be reverted`);
        }
        for (const statement of migration.down) await sql.raw(statement).execute(context);
      },
    })),
  });

  let ran: { name: string }[];
  try {
    if (direction.direction === 'up' && direction.toVersion === undefined) {
      ran = await umzug.up();
    } else if (direction.direction === 'up') {
      // Umzug's `to` must name a pending file: the newest pending one at or below the target.
      const done = new Set(applied.map((row) => row.name));
      const last = template.migrations.filter((m) => m.version <= direction.toVersion! && !done.has(m.name)).at(-1);
      ran = last === undefined ? [] : await umzug.up({ to: last.name });
    } else {
      const target = direction.toVersion;
      const appliedAbove = applied.filter((row) => (byName.get(row.name)?.version ?? 0) > (target ?? -1));
      if (appliedAbove.length === 0) {
        ran = [];
      } else if (target === undefined) {
        ran = await umzug.down();
      } else {
        const oldestToRevert = appliedAbove.reduce((a, b) => (byName.get(a.name)!.version < byName.get(b.name)!.version ? a : b));
        ran = await umzug.down({ to: oldestToRevert.name });
      }
    }
  } catch (error) {
    throw migrationFailure(label, error);
  }

  const version = Math.max(0, ...[...storage.appliedNames()].map((name) => byName.get(name)?.version ?? 0));
  return { names: ran.map((m) => m.name), version };
}

function driftError(label: string, schema: string, drift: readonly DriftProblem[]): SchemataError {
  const lines = drift.map((d) => `${d.file}: ${d.problem}`);
  return new SchemataError(
    'MIGRATION_DRIFT',
    `${label} (schema ${schema}) has drifted from the template, so nothing was migrated: ${lines.join('; ')}. ` +
      'Applied migration files must never be edited; restore the file and add a new migration instead.',
    { schema, drift },
  );
}

/** Umzug wraps errors; keep its "which file, which direction" and the database's own message. */
function migrationFailure(label: string, error: unknown): SchemataError {
  if (error instanceof SchemataError) return error;
  if (error instanceof MigrationError) {
    const cause = error.cause;
    if (cause instanceof SchemataError) return cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SchemataError('MIGRATION_FAILED', `${label}: ${error.migration.name} (${error.migration.direction}) failed: ${reason}`, {
      file: error.migration.name,
    });
  }
  return new SchemataError('MIGRATION_FAILED', `${label}: ${error instanceof Error ? error.message : String(error)}`);
}
