import { sql, type SelectQueryBuilder } from 'kysely';
import type { TenantDatabase } from '../db/tenant-database.js';

/** A position in a (created_at, id) ordering. `createdAt` keeps Postgres's microseconds. */
export interface KeysetCursor {
  readonly createdAt: string;
  readonly id: string;
}

export interface KeysetPage {
  readonly after?: KeysetCursor | undefined;
  readonly before?: KeysetCursor | undefined;
  /** Rows to fetch (the caller asks for one extra to learn whether another page exists). */
  readonly limit: number;
  /** True when paging backwards (`last`/`before`): rows come back in reverse display order. */
  readonly inverted: boolean;
  readonly newestFirst: boolean;
}

/**
 * Exact text of created_at for cursors: a JS Date would drop the microseconds
 * and make rows created in the same millisecond skip or repeat across pages.
 */
export const cursorTimestamp = sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Adds keyset conditions, order and limit over (created_at, id) to a query on
 * one table with those columns. The row comparison uses the table's
 * (…, created_at DESC, id DESC) indexes in either direction.
 */
export function keysetPage<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, page: KeysetPage): SelectQueryBuilder<DB, TB, O> {
  // In display order, "after" means older when newest come first.
  const afterOp = page.newestFirst ? sql`<` : sql`>`;
  const beforeOp = page.newestFirst ? sql`>` : sql`<`;
  let q = query;
  if (page.after) q = q.where(sql<boolean>`(created_at, id) ${afterOp} (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)`);
  if (page.before) q = q.where(sql<boolean>`(created_at, id) ${beforeOp} (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)`);
  const descending = page.newestFirst !== page.inverted;
  const direction = descending ? sql`DESC` : sql`ASC`;
  return q.orderBy(sql`created_at ${direction}, id ${direction}`).limit(page.limit);
}

/**
 * Compares page rows as keysetPage orders them, for rows that came back
 * from several pages at once and must be put back in order.
 */
export function keysetOrder(page: KeysetPage): (a: { readonly cursor_ts: string; readonly id: string }, b: { readonly cursor_ts: string; readonly id: string }) => number {
  // cursor_ts is fixed-width UTC text and uuids compare as their hex text, so text order is the index order.
  const sign = page.newestFirst !== page.inverted ? -1 : 1;
  return (a, b) => sign * (a.cursor_ts < b.cursor_ts ? -1 : a.cursor_ts > b.cursor_ts ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A row of a keyset page: its cursor text and, when the page was asked for it, the filter's total. */
export type PageRow<Row> = Row & { readonly cursor_ts: string; readonly total_count?: string };

/**
 * One page of `filtered` (every column, plus the cursor), in keyset order.
 * With `withCount`, the filter's total comes along as an uncorrelated
 * subquery that Postgres runs once: one round trip instead of two.
 */
export function pageRows<DB, TB extends keyof DB>(filtered: SelectQueryBuilder<DB, TB, {}>, page: KeysetPage, withCount: boolean) {
  const query = filtered
    .selectAll()
    .select(cursorTimestamp.as('cursor_ts'))
    .$if(withCount, (q) => q.select(filtered.select(sql<string>`count(*)`.as('n')).$asScalar().as('total_count')));
  return keysetPage(query, page);
}

/** How many rows `filtered` matches. */
export async function countRows<TB extends keyof TenantDatabase>(filtered: SelectQueryBuilder<TenantDatabase, TB, {}>): Promise<number> {
  const row = await filtered.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
