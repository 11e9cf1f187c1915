import DataLoader from 'dataloader';
import type { TenantDb } from '../tenancy/tenant-transaction.js';
import type { GraphQLContext } from './context.js';

/**
 * The rows one batch of subscription events reads, shared by every
 * subscriber of the tenant in the batch: a change fanned out to fifty
 * subscribers is read once per distinct query (table and filter), not fifty
 * times. Every execution in a batch runs in one scope of the subscribers'
 * own tenant, so a row shared here is one each of them could have read.
 */
export class ChangeLoads {
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();

  constructor(private readonly db: TenantDb) {}

  /**
   * The row `id` as `fetch` reads it, or null when `fetch` does not return it
   * (not visible, or outside the filter). `key` names the query: callers
   * that pass the same key must fetch the same way.
   */
  load<Row extends { id: string }>(key: string, id: string, fetch: (db: TenantDb, ids: readonly string[]) => Promise<readonly Row[]>): Promise<Row | null> {
    let loader = this.loaders.get(key) as DataLoader<string, Row | null> | undefined;
    if (!loader) {
      loader = new DataLoader<string, Row | null>(async (ids) => {
        const byId = new Map((await fetch(this.db, ids)).map((row) => [row.id, row]));
        return ids.map((wanted) => byId.get(wanted) ?? null);
      });
      this.loaders.set(key, loader as DataLoader<string, unknown>);
    }
    return loader.load(id);
  }
}

/** The changed row for a subscription event, through the batch's shared loads (a load of its own outside a batch). */
export function loadChangedRow<Row extends { id: string }>(
  context: GraphQLContext,
  key: string,
  id: string,
  fetch: (db: TenantDb, ids: readonly string[]) => Promise<readonly Row[]>,
): Promise<Row | null> {
  return (context.changeLoads ?? new ChangeLoads(context.db)).load(key, id, fetch);
}
