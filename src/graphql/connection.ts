import { resolveCursorConnection, type DefaultConnectionArguments, type PageInfoShape } from '@pothos/plugin-relay';
import type { KeysetPage } from '../data/keyset-page.js';
import { inputError } from '../errors.js';
import type { GraphQLResolveInfo } from 'graphql';
import type { TenantDb } from '../tenancy/tenant-transaction.js';
import type { GraphQLContext } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { selectsField } from './selection.js';

const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

/** Rows a connection with these arguments returns at most (an out-of-range size is refused when it runs). */
export function pageSizeOf(args: { readonly first?: unknown; readonly last?: unknown }): number {
  const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE_SIZE;
  return Math.min(Math.max(size, 0), MAX_PAGE_SIZE);
}

export interface ConnectionArgs extends DefaultConnectionArguments {
  readonly orderBy?: 'newest' | 'oldest' | null | undefined;
}

export interface KeysetConnection<Row> {
  readonly edges: { readonly cursor: string; readonly node: Row }[];
  readonly pageInfo: PageInfoShape;
  readonly totalCount: () => Promise<number>;
}

/** What a connection needs of a list: the name its cursors carry, a keyset page and a count (a `defineList` list has all three). */
export interface ConnectionList<F, Row> {
  readonly table: string;
  page(db: TenantDb, filter: F, page: KeysetPage, withCount: boolean): Promise<Row[]>;
  count(db: TenantDb, filter: F): Promise<number>;
}

export interface KeysetConnectionOptions<F, Row> {
  readonly context: GraphQLContext;
  readonly info: GraphQLResolveInfo;
  readonly args: ConnectionArgs;
  readonly filter: F;
  /** Fetches the page instead of the list's own `page`, e.g. batched across parent rows. */
  readonly page?: ((page: KeysetPage, withCount: boolean) => Promise<Row[]>) | undefined;
  /** Counts instead of the list's own `count`. */
  readonly count?: (() => Promise<number>) | undefined;
}

/**
 * A Relay connection over a keyset-paged list. Pothos does the first/last/
 * before/after bookkeeping; we validate sizes and cursors with errors that
 * name the argument, fetch with (created_at, id) keysets, and attach a lazy
 * totalCount. When the client selects totalCount, the page is asked for it
 * alongside the rows; the count runs only for a page with no rows.
 */
export async function keysetConnection<F, Row extends { readonly id: string; readonly cursor_ts: string; readonly total_count?: string }>(
  list: ConnectionList<F, Row>,
  options: KeysetConnectionOptions<F, Row>,
): Promise<KeysetConnection<Row>> {
  const { context, info, args, filter } = options;
  const fetch = options.page ?? ((page, withCount) => list.page(context.db, filter, page, withCount));
  const count = options.count ?? (() => list.count(context.db, filter));
  const withCount = selectsField(info, 'totalCount');
  for (const field of ['first', 'last'] as const) {
    const size = args[field];
    if (size != null && (size < 0 || size > MAX_PAGE_SIZE)) throw inputError(field, `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  if (args.first != null && args.last != null) throw inputError('last', 'cannot be combined with first');
  const tenantId = context.tenant.id;
  const name = list.table;
  const connection = (await resolveCursorConnection(
    { args, toCursor: (row) => encodeCursor(name, tenantId, row as Row), defaultSize: DEFAULT_PAGE_SIZE, maxSize: MAX_PAGE_SIZE },
    ({ before, after, limit, inverted }): Promise<Row[]> =>
      fetch({
        after: after === undefined ? undefined : decodeCursor(name, tenantId, 'after', after),
        before: before === undefined ? undefined : decodeCursor(name, tenantId, 'before', before),
        limit,
        inverted,
        newestFirst: args.orderBy !== 'oldest',
      }, withCount),
  ))!;
  // A page fetched with its total already knows it; otherwise count on demand.
  const known = (connection.edges[0]?.node as Row | undefined)?.total_count;
  let counted: Promise<number> | undefined = known === undefined ? undefined : Promise.resolve(Number(known));
  return {
    edges: connection.edges as KeysetConnection<Row>['edges'],
    pageInfo: connection.pageInfo,
    totalCount: () => (counted ??= count()),
  };
}
