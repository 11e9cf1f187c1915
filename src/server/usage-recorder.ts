import type { Database } from '../db/database.js';
import { addUsage, type UsageIncrement } from '../control/tenant-usage.repository.js';

export interface UsageRecorderOptions {
  /** @default 10000 */
  readonly flushIntervalMs?: number;
  /** Where a failed flush is reported; its counts are kept for the next one. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Request counts per tenant, summed in memory and written to
 * control.tenant_usage_daily every few seconds in one statement, so the
 * request path never waits on the control plane. A failed flush keeps its
 * counts for the next; close() flushes what is left.
 */
export class UsageRecorder {
  private pending = new Map<string, { requests: number; errors: number; lastRequestAt: Date }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly options: UsageRecorderOptions = {},
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 10_000);
    this.timer.unref();
  }

  record(tenantId: string, failed: boolean): void {
    const entry = this.pending.get(tenantId) ?? { requests: 0, errors: 0, lastRequestAt: new Date() };
    entry.requests += 1;
    if (failed) entry.errors += 1;
    entry.lastRequestAt = new Date();
    this.pending.set(tenantId, entry);
  }

  /** Writes what has been counted so far; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const increments: UsageIncrement[] = [...batch].map(([tenantId, entry]) => ({ tenantId, ...entry }));
    try {
      await addUsage(this.database.control, increments);
    } catch (error) {
      for (const increment of increments) {
        const later = this.pending.get(increment.tenantId);
        this.pending.set(increment.tenantId, {
          requests: increment.requests + (later?.requests ?? 0),
          errors: increment.errors + (later?.errors ?? 0),
          lastRequestAt: later?.lastRequestAt ?? increment.lastRequestAt,
        });
      }
      this.options.onError?.(error);
    }
  }
}
