import type { UmzugStorage } from 'umzug';
import { deleteAppliedMigration, insertAppliedMigration } from './ledger.repository.js';
import type { AnyKysely } from '../db/any-kysely.js';
import type { TemplateMigration } from './template.js';

export interface ChecksumStorage extends UmzugStorage<AnyKysely> {
  /** What is applied now: the ledger as read at the start, plus what this run logged, minus what it unlogged. */
  appliedNames(): ReadonlySet<string>;
}

/**
 * Umzug storage that records each file's checksum beside its name, through
 * the caller's transaction. It starts from the ledger the caller already read
 * under the schema's lock and keeps it current itself, so Umzug's "what is
 * executed" and the caller's "what version now" cost no further reads.
 */
export function createChecksumStorage(migrations: ReadonlyMap<string, TemplateMigration>, applied: readonly string[]): ChecksumStorage {
  const names = new Set(applied);
  return {
    async logMigration({ name, context }) {
      const checksum = migrations.get(name)?.checksum;
      if (checksum === undefined) throw new Error(`no template file ${name}`);
      await insertAppliedMigration(context, { name, checksum });
      names.add(name);
    },
    async unlogMigration({ name, context }) {
      await deleteAppliedMigration(context, name);
      names.delete(name);
    },
    async executed() {
      return [...names];
    },
    appliedNames: () => names,
  };
}
