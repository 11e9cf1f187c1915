import type { Database } from '../../db/database.js';
import { addUsage, type UsageIncrement } from '../../control/usage/tenant-usage.repository.js';

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
  /** By tenant and UTC day, so a flush after midnight still files yesterday's requests under yesterday. */
  private pending = new Map<string, UsageIncrement>();
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
    const now = new Date();
    const day = now.toISOString().slice(0, 10);
    this.add({ tenantId, day, requests: 1, errors: failed ? 1 : 0, lastRequestAt: now });
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

  private add(increment: UsageIncrement): void {
    const key = `${increment.tenantId} ${increment.day}`;
    const entry = this.pending.get(key);
    this.pending.set(
      key,
      entry
        ? {
            ...entry,
            requests: entry.requests + increment.requests,
            errors: entry.errors + increment.errors,
            lastRequestAt: entry.lastRequestAt > increment.lastRequestAt ? entry.lastRequestAt : increment.lastRequestAt,
          }
        : increment,
    );
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const increments = [...this.pending.values()];
    this.pending = new Map();
    try {
      await addUsage(this.database.control, increments);
    } catch (error) {
      // Kept for the next flush, merged with what arrived meanwhile.
      for (const increment of increments) this.add(increment);
      this.options.onError?.(error);
    }
  }
}
