/** One admin operation, as the audit log line records it. */
export interface AdminOperation {
  readonly at: Date;
  /** The operator: the platform token's subject. */
  readonly admin: string;
  readonly operation: string;
  readonly fields: readonly string[];
  /** The operation's variables (slugs, plans: the admin API takes no secrets). */
  readonly args: unknown;
  readonly errorCodes: readonly string[];
}

/**
 * The last operations this server ran, newest first, for the console's log
 * page: the same records the JSON log gets (use-admin-audit-log.ts), kept in
 * memory. The full history, and other servers', is in the log itself.
 */
export class AdminOperationLog {
  private readonly entries: AdminOperation[] = [];

  constructor(private readonly capacity = 500) {}

  add(entry: AdminOperation): void {
    this.entries.unshift(entry);
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  recent(limit: number): readonly AdminOperation[] {
    return this.entries.slice(0, limit);
  }
}
