import type { UmzugStorage } from 'umzug';
import { deleteAppliedMigration, insertAppliedMigration, readAppliedMigrations } from './ledger.repository.js';
import type { AnyKysely } from './migrate-schema.js';
import type { TemplateMigration } from './template.js';

/** Umzug storage that records each file's checksum beside its name, through the caller's transaction. */
export function createChecksumStorage(migrations: ReadonlyMap<string, TemplateMigration>): UmzugStorage<AnyKysely> {
  return {
    async logMigration({ name, context }) {
      const checksum = migrations.get(name)?.checksum;
      if (checksum === undefined) throw new Error(`no template file ${name}`);
      await insertAppliedMigration(context, { name, checksum });
    },
    async unlogMigration({ name, context }) {
      await deleteAppliedMigration(context, name);
    },
    async executed({ context }) {
      return (await readAppliedMigrations(context)).map((row) => row.name);
    },
  };
}
