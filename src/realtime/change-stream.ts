import { SchemataError } from '../errors.js';

/** A committed change as the template's triggers announce it: ids only. */
export interface RowChange {
  /** The tenant's schema, which the trigger knows as TG_TABLE_SCHEMA. */
  readonly schema: string;
  readonly table: RowChangeTable;
  readonly id: string;
  readonly op: 'INSERT' | 'UPDATE';
}

export const ROW_CHANGE_TABLES = ['deployments', 'workflows', 'audit_log'] as const;
export type RowChangeTable = (typeof ROW_CHANGE_TABLES)[number];

/**
 * One subscriber's changes, as an async iterator that graphql-js consumes.
 * `end(error)` makes the next `next()` reject with the error (the coded end a
 * client sees) and every later one report done; `return()` (the client went
 * away) ends it at once, even while a `next()` is waiting.
 */
export class ChangeStream implements AsyncIterableIterator<RowChange> {
  private readonly queue: RowChange[] = [];
  private waiting: { resolve(result: IteratorResult<RowChange>): void; reject(error: Error): void } | undefined;
  private ended: { error: Error | undefined } | undefined;

  constructor(
    readonly tenantId: string,
    private readonly tables: ReadonlySet<RowChangeTable>,
    private readonly onEnd: (stream: ChangeStream) => void,
    /** Changes that may wait for a consumer that does not keep up; past it the stream ends with SLOW_CONSUMER. */
    private readonly maxQueued = 1_000,
  ) {}

  get open(): boolean {
    return this.ended === undefined;
  }

  push(change: RowChange): void {
    if (this.ended || !this.tables.has(change.table)) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ done: false, value: change });
    } else if (this.queue.length >= this.maxQueued) {
      // Its memory is bounded, and every other subscriber keeps receiving.
      this.end(new SchemataError('SLOW_CONSUMER', `this subscription fell ${this.maxQueued} changes behind and was ended: subscribe again and refetch`));
    } else this.queue.push(change);
  }

  end(error?: SchemataError): void {
    if (this.ended) return;
    this.ended = { error };
    this.queue.length = 0;
    this.onEnd(this);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    if (error) {
      this.ended.error = undefined;
      waiting.reject(error);
    } else waiting.resolve({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<RowChange>> {
    const change = this.queue.shift();
    if (change) return Promise.resolve({ done: false, value: change });
    if (this.ended) {
      const { error } = this.ended;
      this.ended.error = undefined;
      return error ? Promise.reject(error) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<RowChange>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
