import DataLoader from 'dataloader';
import pLimit, { type LimitFunction } from 'p-limit';

export interface TenantBatchesOptions<Item> {
  /** Batches of one tenant running at once; the rest wait their turn. */
  readonly width: number;
  /** Items in one batch; more that arrive in the same turn of the event loop form the next. */
  readonly maxBatch: number;
  /** Runs one tenant's batch, and answers each item itself (its own promise): a batch never fails as a whole here. */
  readonly run: (items: readonly Item[]) => Promise<void>;
}

/**
 * Work of one tenant that arrives in the same turn of the event loop runs as
 * one batch: a change fanned out to every subscriber of a tenant becomes one
 * unit of work, not one per subscriber. Tenants never share a batch, and
 * each tenant's batches wait only for that tenant's lane.
 */
export class TenantBatches<Item> {
  /** Tenants with work queued or running: an idle tenant holds nothing. */
  private readonly tenants = new Map<string, { readonly loader: DataLoader<Item, void>; readonly lane: LimitFunction; pending: number }>();

  constructor(private readonly options: TenantBatchesOptions<Item>) {}

  /** Queues `item` in the tenant's next batch; the run answers it. */
  add(tenant: string, item: Item): void {
    let entry = this.tenants.get(tenant);
    if (!entry) {
      const lane = pLimit(this.options.width);
      const loader = new DataLoader<Item, void>(
        async (items) => {
          await lane(() => this.options.run(items));
          return items.map(() => undefined);
        },
        {
          cache: false,
          maxBatchSize: this.options.maxBatch,
          // After the current turn's I/O callbacks, so every subscriber woken by one notification joins.
          batchScheduleFn: (dispatch) => setImmediate(dispatch),
        },
      );
      this.tenants.set(tenant, (entry = { loader, lane, pending: 0 }));
    }
    const held = entry;
    held.pending += 1;
    void held.loader
      .load(item)
      .catch(() => undefined)
      .finally(() => {
        if (--held.pending === 0 && this.tenants.get(tenant) === held) this.tenants.delete(tenant);
      });
  }
}
