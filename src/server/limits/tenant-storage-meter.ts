export interface TenantStorageMeterOptions {
  /**
   * How long one measurement of a tenant's storage is trusted. Measuring sums
   * the size of every table of the schema, too much for every write; a tenant
   * can overshoot its limit by what it writes within this window.
   * @default 30000
   */
  readonly ttlMs?: number;
}

/**
 * The last measured storage of each tenant in this process. `measure` runs
 * inside the caller's tenant transaction; concurrent requests of one tenant
 * share one measurement, and only a failed one is retried before it expires.
 * Nothing refreshes a measurement early: a tenant that deletes data stays
 * over its limit (QUOTA_EXCEEDED) until the measurement expires, and even then
 * deleted rows count until vacuum truncates the pages they emptied.
 */
export class TenantStorageMeter {
  private readonly measured = new Map<string, { readonly bytes: Promise<number>; readonly expiresAt: number }>();

  constructor(private readonly options: TenantStorageMeterOptions = {}) {}

  bytes(tenantId: string, measure: () => Promise<number>): Promise<number> {
    const now = Date.now();
    const entry = this.measured.get(tenantId);
    if (entry && entry.expiresAt > now) return entry.bytes;
    if (this.measured.size > 10_000) this.dropExpired(now);
    const bytes = measure();
    this.measured.set(tenantId, { bytes, expiresAt: now + (this.options.ttlMs ?? 30_000) });
    bytes.catch(() => this.measured.get(tenantId)?.bytes === bytes && this.measured.delete(tenantId));
    return bytes;
  }

  private dropExpired(now: number): void {
    for (const [tenantId, entry] of this.measured) if (entry.expiresAt <= now) this.measured.delete(tenantId);
  }
}
