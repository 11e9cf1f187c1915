import { SchemataError } from '../../errors.js';

export interface TenantConcurrencyOptions {
  /** Connections one tenant may hold at once while another tenant waits. */
  readonly perTenant: number;
  /**
   * The connections shared by all tenants (the pool). With it the cap is
   * work-conserving: a tenant may go past `perTenant` while no other tenant
   * waits, up to `total - perTenant`, so `perTenant` connections always stay
   * free for a tenant that arrives. Without it `perTenant` is a hard cap.
   */
  readonly total?: number;
  /**
   * Requests of one tenant that may wait for one of its slots; beyond that
   * they are refused at once (503 TENANT_BUSY) instead of queueing forever.
   * @default 100
   */
  readonly maxWaiting?: number;
}

/**
 * Shares the pooled connections between tenants, so a tenant that floods the
 * server waits behind itself instead of starving the others. Waiting requests
 * are served oldest first among those allowed to start (first in, first out
 * keeps the latency tail short; a strict turn per tenant lengthened it).
 */
export class TenantConcurrency {
  private readonly active = new Map<string, number>();
  /** Waiting requests, oldest first. */
  private readonly queue: { readonly tenantId: string; readonly start: () => void }[] = [];
  private readonly waitingOf = new Map<string, number>();
  private running = 0;

  constructor(private readonly options: TenantConcurrencyOptions) {}

  /** Connections one tenant is sure of when every tenant is busy (its share). */
  get perTenant(): number {
    return this.options.perTenant;
  }

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const waiting = this.waitingOf.get(tenantId) ?? 0;
    if (waiting > 0 || !this.mayStart(tenantId)) {
      if (waiting >= (this.options.maxWaiting ?? 100)) {
        throw new SchemataError('TENANT_BUSY', 'this tenant has too many requests in progress; retry in a moment');
      }
      this.waitingOf.set(tenantId, waiting + 1);
      await new Promise<void>((resolve) => this.queue.push({ tenantId, start: resolve }));
    } else {
      this.begin(tenantId);
    }
    try {
      return await work();
    } finally {
      const left = this.active.get(tenantId)! - 1;
      // Forget idle tenants, so 10,000 tenants do not keep 10,000 counters.
      if (left === 0) this.active.delete(tenantId);
      else this.active.set(tenantId, left);
      this.running--;
      this.dispatch();
    }
  }

  /** Whether a request arriving now starts at once: under its share, or borrowing while nobody waits. */
  private mayStart(tenantId: string): boolean {
    const { perTenant, total } = this.options;
    const mine = this.active.get(tenantId) ?? 0;
    if (total === undefined) return mine < perTenant;
    if (this.running >= total) return false;
    return mine < perTenant || (this.queue.length === 0 && this.running < total - perTenant);
  }

  private begin(tenantId: string): void {
    this.active.set(tenantId, (this.active.get(tenantId) ?? 0) + 1);
    this.running++;
  }

  /**
   * Hands free slots to waiting requests: the oldest of a tenant under its
   * share; failing that, leaving one share free for a tenant yet to come,
   * the oldest of all.
   */
  private dispatch(): void {
    const { perTenant, total } = this.options;
    while (this.queue.length > 0 && (total === undefined || this.running < total)) {
      let index = this.queue.findIndex((waiter) => (this.active.get(waiter.tenantId) ?? 0) < perTenant);
      if (index < 0 && total !== undefined && this.running < total - perTenant) index = 0;
      if (index < 0) return;
      const [waiter] = this.queue.splice(index, 1);
      const left = this.waitingOf.get(waiter!.tenantId)! - 1;
      if (left === 0) this.waitingOf.delete(waiter!.tenantId);
      else this.waitingOf.set(waiter!.tenantId, left);
      this.begin(waiter!.tenantId);
      waiter!.start();
    }
  }
}
