import DataLoader from 'dataloader';
import pLimit, { type LimitFunction } from 'p-limit';

export interface TenantBatchesOptions<Item, Result> {
  /** Batches of one tenant running at once; the rest wait their turn. */
  readonly width: number;
  /** Items in one batch; more that arrive in the same turn of the event loop form the next. */
  readonly maxBatch: number;
  /** Runs one tenant's batch; an Error in the answer rejects that item alone. */
  readonly run: (items: readonly Item[]) => Promise<ReadonlyArray<Result | Error>>;
}

/**
 * Work of one tenant that arrives in the same turn of the event loop runs as
 * one batch: a change fanned out to every subscriber of a tenant becomes one
 * unit of work, not one per subscriber. Tenants never share a batch or a
 * turn, so one tenant's slow batch delays only its own items.
 */
export class TenantBatches<Item, Result> {
  private readonly tenants = new Map<string, { readonly loader: DataLoader<Item, Result>; readonly lane: LimitFunction; pending: number }>();

  constructor(private readonly options: TenantBatchesOptions<Item, Result>) {}

  /** Tenants with work queued or running, for tests: an idle tenant holds nothing. */
  get active(): number {
    return this.tenants.size;
  }

  add(tenant: string, item: Item): Promise<Result> {
    let entry = this.tenants.get(tenant);
    if (!entry) {
      const lane = pLimit(this.options.width);
      const loader = new DataLoader<Item, Result>((items) => lane(() => this.runSafely(items)), {
        cache: false,
        maxBatchSize: this.options.maxBatch,
        // After the current turn's I/O callbacks, so every subscriber woken by one notification joins.
        batchScheduleFn: (dispatch) => setImmediate(dispatch),
      });
      this.tenants.set(tenant, (entry = { loader, lane, pending: 0 }));
    }
    const held = entry;
    held.pending += 1;
    return held.loader.load(item).finally(() => {
      if (--held.pending === 0 && this.tenants.get(tenant) === held) this.tenants.delete(tenant);
    });
  }

  private async runSafely(items: readonly Item[]): Promise<ReadonlyArray<Result | Error>> {
    try {
      return await this.options.run(items);
    } catch (error) {
      const failed = error instanceof Error ? error : new Error(String(error));
      return items.map(() => failed);
    }
  }
}
