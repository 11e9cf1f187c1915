import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ListeningSession } from '../../db/listening-session.js';
import type { TenantChange } from './tenant-cache.js';

const TENANT_CHANGED_CHANNEL = 'schemata_tenant_changed';

export interface TenantChangeChannelOptions {
  /** @default 1000 */
  readonly reconnectDelayMs?: number;
  /**
   * How often the registry proves its LISTEN works: it sends itself a probe
   * notification from a second session and caches nothing until the probe
   * comes back. A probe missing for `probeTimeoutMs` (the channel is down, or
   * LISTEN went through a transaction pooler that dropped it) forgets every
   * cached entry, so a change reaches requests within heartbeat + timeout.
   * 0 turns probing off (only tests that show why it exists).
   * @default 500
   */
  readonly heartbeatMs?: number;
  /** @default 1000 */
  readonly probeTimeoutMs?: number;
  /**
   * Told when the cache turns off (a probe went missing, the channel dropped,
   * or the first probe never came back) and when it turns on again after that.
   */
  readonly onSyncChange?: (synced: boolean) => void;
}

/** What the channel tells the cache. */
export interface TenantChangeEvents {
  /** A tenant (or its keys) changed in some process. */
  changed(change: TenantChange): void;
  /** Something may have been missed: everything cached must go. */
  reset(): void;
}

/**
 * The LISTEN side of the registry: a dedicated session connection (the direct
 * URL when there is one) on the channel the control-plane triggers notify,
 * reconnected when it drops, and a heartbeat that sends a probe through it
 * from a second session. `synced` holds only while the channel is up and the
 * last probe came back: a LISTEN that silently hears nothing (a transaction
 * pooler) must not keep a cache alive.
 */
export class TenantChangeChannel {
  private listener: ListeningSession | undefined;
  private closed = false;
  /** A probe came back since the channel was (re)established, and none is overdue. */
  private confirmed = false;
  private prober: Promise<pg.Client> | undefined;
  /** The probe in flight; `lagMs` is how late this process's own timers ran meanwhile. */
  private outstanding: { readonly seq: number; readonly sentAt: number; lagMs: number } | undefined;
  private lastTickAt: number | undefined;
  private reportedLoss = false;
  private probeSeq = 0;
  private readonly probeId = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessionUrl: string,
    private readonly options: TenantChangeChannelOptions,
    private readonly events: TenantChangeEvents,
  ) {}

  /** Resolves once LISTEN is in effect and the first probe came back or timed out. */
  async start(): Promise<void> {
    await this.listen();
    await this.startHeartbeat();
  }

  get synced(): boolean {
    return this.listening && (this.confirmed || this.options.heartbeatMs === 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.confirmed = false;
    clearInterval(this.heartbeat);
    const listener = this.listener;
    await Promise.all([listener?.close().catch(() => undefined), this.prober?.then((client) => client.end()).catch(() => undefined)]);
  }

  private listen(): Promise<void> {
    this.listener ??= new ListeningSession(this.sessionUrl, TENANT_CHANGED_CHANNEL, this.options.reconnectDelayMs ?? 1_000, {
      notification: (payload) => {
        let change: TenantChange & { probe?: string };
        try {
          change = JSON.parse(payload || '{}') as typeof change;
        } catch {
          return this.events.reset();
        }
        // Probes change nothing; another server's are not ours to count.
        if (change.probe !== undefined) return this.probeArrived(change.probe);
        this.events.changed(change);
      },
      // Anything cached before LISTEN took effect may have missed a notification.
      listening: () => this.events.reset(),
      lost: () => this.lostListener(),
    });
    return this.listener.start();
  }

  private get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  private lostListener(): void {
    const wasSynced = this.confirmed;
    this.confirmed = false;
    this.outstanding = undefined;
    this.events.reset();
    if (wasSynced) this.reportLoss();
  }

  private async startHeartbeat(): Promise<void> {
    const every = this.options.heartbeatMs ?? 500;
    if (every === 0) return;
    this.heartbeat = setInterval(() => void this.tick(), every).unref();
    // The first probe, awaited: a server behind a working channel starts with its cache on.
    await this.tick();
    const deadline = Date.now() + (this.options.probeTimeoutMs ?? 1_000);
    while (!this.confirmed && this.outstanding && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    if (!this.confirmed) this.reportLoss();
  }

  private reportLoss(): void {
    if (this.reportedLoss) return;
    this.reportedLoss = true;
    this.options.onSyncChange?.(false);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    // A busy event loop delays reading the probe as much as it delays this timer:
    // that delay is not the channel's, so it does not count against the probe.
    const every = this.options.heartbeatMs ?? 500;
    if (this.outstanding && this.lastTickAt !== undefined) this.outstanding.lagMs += Math.max(0, now - this.lastTickAt - every);
    this.lastTickAt = now;
    if (this.outstanding && now - this.outstanding.sentAt - this.outstanding.lagMs > (this.options.probeTimeoutMs ?? 1_000)) {
      this.outstanding = undefined;
      if (this.confirmed) {
        this.confirmed = false;
        this.events.reset();
        this.reportLoss();
      }
    }
    if (this.outstanding || !this.listening || this.closed) return;
    const probe = { seq: ++this.probeSeq, sentAt: now, lagMs: 0 };
    this.outstanding = probe;
    try {
      const prober = await this.proberClient();
      await prober.query('SELECT pg_notify($1, $2)', [TENANT_CHANGED_CHANNEL, JSON.stringify({ probe: `${this.probeId}:${probe.seq}` })]);
    } catch {
      // An unsent probe stays outstanding and times out like a lost one; the next tick connects anew.
      const broken = this.prober;
      this.prober = undefined;
      await broken?.catch(() => undefined).then((client) => client?.end()).catch(() => undefined);
    }
  }

  /** One probe connection, connected once: ticks that come while it connects wait for the same one. */
  private proberClient(): Promise<pg.Client> {
    this.prober ??= this.connectProber();
    return this.prober;
  }

  private async connectProber(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.sessionUrl, connectionTimeoutMillis: this.options.probeTimeoutMs ?? 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // Closed while it connected: nobody will end it later.
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('the registry closed');
    }
    return client;
  }

  private probeArrived(probe: string): void {
    if (probe !== `${this.probeId}:${this.outstanding?.seq}`) return;
    this.outstanding = undefined;
    if (!this.confirmed) {
      // What was cached before the channel was proven may have missed a notification.
      this.events.reset();
      this.confirmed = true;
      if (this.reportedLoss) this.options.onSyncChange?.(true);
      this.reportedLoss = false;
    }
  }
}
