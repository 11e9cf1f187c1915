import pLimit, { type LimitFunction } from 'p-limit';
import { SchemataError } from '../../errors.js';

export interface TenantConcurrencyOptions {
  /** Connections one tenant may hold at once. */
  readonly perTenant: number;
  /**
   * Requests of one tenant that may wait for one of its slots; beyond that
   * they are refused at once (503 TENANT_BUSY) instead of queueing forever.
   * @default 100
   */
  readonly maxWaiting?: number;
}

/**
 * Caps the pooled connections one tenant can hold (p-limit per tenant), so a
 * tenant that floods the server waits behind itself instead of starving the
 * others of the shared pool.
 */
export class TenantConcurrency {
  private readonly limits = new Map<string, LimitFunction>();

  constructor(private readonly options: TenantConcurrencyOptions) {}

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    let limit = this.limits.get(tenantId);
    if (!limit) {
      limit = pLimit(this.options.perTenant);
      this.limits.set(tenantId, limit);
    }
    if (limit.pendingCount >= (this.options.maxWaiting ?? 100)) {
      throw new SchemataError('TENANT_BUSY', 'this tenant has too many requests in progress; retry in a moment');
    }
    try {
      return await limit(work);
    } finally {
      // Forget idle tenants, so 10,000 tenants do not keep 10,000 limiters.
      if (limit.activeCount === 0 && limit.pendingCount === 0) this.limits.delete(tenantId);
    }
  }
}
