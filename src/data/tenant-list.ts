import { sql, type SelectQueryBuilder } from 'kysely';
import type { TenantDatabase } from '../db/tenant-database.js';
import type { TenantDb } from '../tenancy/tenant-transaction.js';
import { countRows, pageRows, type KeysetPage } from './keyset-page.js';

/** Tables a list can page: keyset pages run over (created_at, id). */
export type ListTable = { [T in keyof TenantDatabase]: TenantDatabase[T] extends { id: unknown; created_at: unknown } ? T : never }[keyof TenantDatabase];

/** A query on one list table, before anything is selected. */
export type ListQuery<T extends ListTable> = SelectQueryBuilder<TenantDatabase, T, {}>;

export interface ListDefinition<T extends ListTable, F> {
  /** The table, which also names the list in its cursors. */
  readonly table: T;
  /**
   * `db.selectFrom(table)`, written where the table is a literal: Kysely
   * types selectFrom only for a known table, not for a type parameter.
   */
  readonly from: (db: TenantDb) => ListQuery<T>;
  /** Narrows the table to the rows a filter asks for; every page and count of the list goes through it. */
  readonly filter: (query: ListQuery<T>, filter: F) => ListQuery<T>;
}

/**
 * A tenant list declared once: its table and filter give the node lookup,
 * the keyset page and the count, so the three cannot drift apart.
 */
export function defineList<T extends ListTable, F>(definition: ListDefinition<T, F>) {
  const { table, from } = definition;
  const filtered = (db: TenantDb, filter: F): ListQuery<T> => definition.filter(from(db), filter);
  return {
    table,
    filtered,
    async findByIds(db: TenantDb, ids: readonly string[]) {
      if (ids.length === 0) return [];
      return from(db).selectAll().where(sql.ref('id'), 'in', ids).execute();
    },
    /** The rows of `ids` that pass `filter`: a subscription event's node, as that subscriber's filter sees it. */
    async findByIdsFiltered(db: TenantDb, filter: F, ids: readonly string[]) {
      if (ids.length === 0) return [];
      return filtered(db, filter).selectAll().where(sql.ref('id'), 'in', ids).execute();
    },
    /** One page in keyset order; with `withCount` each row also carries the filter's total. */
    page: (db: TenantDb, filter: F, page: KeysetPage, withCount = false) => pageRows(filtered(db, filter), page, withCount).execute(),
    count: (db: TenantDb, filter: F) => countRows(filtered(db, filter)),
  };
}
