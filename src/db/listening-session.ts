import pg from 'pg';

export interface ListeningSessionEvents {
  /** A notification on the channel (its payload, '' when it had none). */
  notification(payload: string): void;
  /** LISTEN is in effect, at the start and after each reconnect: what was sent while it was not is lost. */
  listening(): void;
  /** The session dropped; it reconnects after the delay until closed. */
  lost(): void;
}

/**
 * One dedicated session connection LISTENing on one channel, reconnected when
 * it drops. It must be a session (the direct URL): a transaction pooler would
 * take the LISTEN and then hand the server connection to someone else.
 */
export class ListeningSession {
  private client: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly reconnectDelayMs: number,
    private readonly events: ListeningSessionEvents,
  ) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** The session's backend pid (pg_stat_activity.pid) while it listens. */
  get backendPid(): number | undefined {
    return (this.client as (pg.Client & { processID?: number }) | undefined)?.processID;
  }

  /** The first LISTEN; rejects when it fails (later ones are retried instead). */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.events.notification(message.payload ?? '');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.events.listening();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.events.lost();
    const retry = () => {
      if (this.closed) return;
      this.start().catch(() => setTimeout(retry, this.reconnectDelayMs).unref());
    };
    setTimeout(retry, this.reconnectDelayMs).unref();
  }
}
