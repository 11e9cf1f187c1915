import { isUuid } from '../../db/identifiers.js';
import { SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import type { GraphQLContext } from '../context.js';

/**
 * Orders loaded rows like the requested ids (DataLoader's contract) and turns
 * each missing one into a typed NOT_FOUND, never a masked 500.
 */
function notFoundForMissing<Row extends { readonly id: string }>(typename: string, ids: readonly string[], rows: readonly Row[]): (Row | Error)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? new SchemataError('NOT_FOUND', `no ${typename} with this id`));
}

/**
 * A node type's DataLoader `load`: one query for the batch, in the request's
 * tenant transaction. Ids that are not uuids are never sent to Postgres.
 */
export function loadByIds<Row extends { readonly id: string }>(typename: string, find: (db: TenantDb, ids: readonly string[]) => Promise<Row[]>) {
  return async (ids: string[], context: GraphQLContext): Promise<(Row | Error)[]> => notFoundForMissing(typename, ids, await find(context.db, ids.filter(isUuid)));
}
