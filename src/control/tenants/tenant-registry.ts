import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { SchemataError } from '../../errors.js';
import { findTenantById, findTenantBySlug } from './tenant.repository.js';

const TENANT_CHANGED_CHANNEL = 'schemata_tenant_changed';

export interface TenantRegistryOptions {
  /**
   * How long "no such tenant" is remembered, so a flood of requests for an
   * unknown slug costs one query per interval, not one per request.
   * @default 5000
   */
  readonly missTtlMs?: number;
  /**
   * How many "no such tenant" answers are remembered; the least recently
   * asked go first, so a flood of invented slugs cannot grow the process.
   * @default 10000
   */
  readonly missCacheSize?: number;
  /**
   * Control-plane lookups that may find nothing per window, per client (the
   * caller's address). Past it, a slug or id that is not cached is refused to
   * that client with 429 RATE_LIMITED without a query; cached tenants, and
   * every other client, are unaffected.
   * @default { misses: 100, perSeconds: 1 }
   */
  readonly missBudget?: { readonly misses: number; readonly perSeconds: number };
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

type Entry = { readonly tenant: Tenant };
type Kind = 'slug' | 'id';


/**
 * The control plane's registry, cached in this process. The request path reads
 * only memory once a tenant is cached. A dedicated session connection (the
 * direct URL when there is one) LISTENs for the trigger in control migration
 * 0002, so a change committed by any process (a CLI, another server) evicts
 * the entry here at once. Nothing is cached unless that channel is up and a
 * probe sent through it came back (see `heartbeatMs`): correctness over speed.
 */
export class TenantRegistry {
  private readonly bySlug = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  /** `slug:<slug>` and `id:<id>` that the control plane did not know. */
  private readonly misses: LRUCache<string, true>;
  private readonly missBudget: RateLimiterMemory;
  private listener: pg.Client | undefined;
  private readonly invalidationListeners: ((tenantId: string | undefined) => void)[] = [];
  private listening = false;
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
  private changes = 0;

  private constructor(
    private readonly database: Database,
    private readonly options: TenantRegistryOptions,
  ) {
    this.misses = new LRUCache({ max: options.missCacheSize ?? 10_000, ttl: options.missTtlMs ?? 5_000 });
    const budget = options.missBudget ?? { misses: 100, perSeconds: 1 };
    this.missBudget = new RateLimiterMemory({ points: budget.misses, duration: budget.perSeconds });
  }

  static async start(database: Database, options: TenantRegistryOptions = {}): Promise<TenantRegistry> {
    const registry = new TenantRegistry(database, options);
    await registry.listen();
    await registry.startHeartbeat();
    return registry;
  }

  /** `client` is who spends the miss budget (a request's address); in-process callers share one. */
  async findBySlug(slug: string, client = 'process'): Promise<Tenant | undefined> {
    return this.lookup('slug', slug, client, () => findTenantBySlug(this.database.control, slug));
  }

  async findById(id: string, client = 'process'): Promise<Tenant | undefined> {
    return this.lookup('id', id, client, () => findTenantById(this.database.control, id));
  }

  /**
   * Moves on at every invalidation: a cache that loaded something while it
   * moved must not keep what it loaded, since the change may have come after
   * the read (see lookup).
   */
  get generation(): number {
    return this.changes;
  }

  /** Drops what is cached for a tenant; callers that change a tenant in this process may call it directly. */
  invalidate(change: { readonly id?: string | null; readonly slugs?: readonly (string | null)[] }): void {
    this.changes++;
    const cached = change.id ? this.byId.get(change.id)?.tenant : undefined;
    if (change.id) {
      this.byId.delete(change.id);
      this.misses.delete(`id:${change.id}`);
    }
    if (cached) this.bySlug.delete(cached.slug);
    for (const slug of change.slugs ?? []) {
      if (!slug) continue;
      this.bySlug.delete(slug);
      this.misses.delete(`slug:${slug}`);
    }
    for (const listener of this.invalidationListeners) listener(change.id ?? undefined);
  }

  /**
   * Other per-tenant caches (signing keys) follow the registry's: `listener`
   * gets the tenant id, or undefined when everything must be forgotten.
   */
  onInvalidate(listener: (tenantId: string | undefined) => void): void {
    this.invalidationListeners.push(listener);
  }

  /** Whether cached entries are trustworthy: the LISTEN connection is up and has shown that notifications reach it. */
  get synced(): boolean {
    return this.listening && (this.confirmed || this.options.heartbeatMs === 0);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Unexpired "no such tenant" entries. */
  get missCacheSize(): number {
    this.misses.purgeStale();
    return this.misses.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    this.confirmed = false;
    clearInterval(this.heartbeat);
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.end().catch(() => undefined), this.prober?.then((client) => client.end()).catch(() => undefined)]);
  }

  private async lookup(kind: Kind, key: string, client: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    const cached = (kind === 'slug' ? this.bySlug : this.byId).get(key);
    if (cached) return cached.tenant;
    if (this.misses.has(`${kind}:${key}`)) return undefined;
    const generation = this.changes;
    // Only misses spend the budget, so a known tenant that is not cached yet
    // still resolves unless invented names have used it up. Lookups already
    // in flight when it runs out may still miss: at most one per waiting request.
    const spent = await this.missBudget.get(client);
    if (spent && spent.remainingPoints <= 0) throw new SchemataError('RATE_LIMITED', 'too many requests for unknown tenants right now; retry in a few seconds');
    const tenant = await load();
    if (!tenant) await this.missBudget.penalty(client, 1);
    if (this.synced && this.changes === generation) this.remember(kind, key, tenant);
    return tenant;
  }

  private remember(kind: Kind, key: string, tenant: Tenant | undefined): void {
    if (tenant) {
      const entry = { tenant };
      this.bySlug.set(tenant.slug, entry);
      this.byId.set(tenant.id, entry);
    } else {
      this.misses.set(`${kind}:${key}`, true);
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.database.sessionUrl });
    client.on('notification', (message) => {
      let change: { id?: string; slugs?: string[]; probe?: string };
      try {
        change = JSON.parse(message.payload ?? '{}') as typeof change;
      } catch {
        return this.clear();
      }
      // Probes change nothing; another server's are not ours to count.
      if (change.probe !== undefined) return this.probeArrived(change.probe);
      this.invalidate(change);
    });
    client.on('error', () => this.lostListener(client));
    client.on('end', () => this.lostListener(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${TENANT_CHANGED_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.listener = client;
    // Anything cached before LISTEN took effect may have missed a notification.
    this.clear();
    this.listening = true;
  }

  private lostListener(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listening = false;
    const wasSynced = this.confirmed;
    this.confirmed = false;
    this.outstanding = undefined;
    this.clear();
    if (wasSynced) this.reportLoss();
    if (this.closed) return;
    const retry = () => {
      if (this.closed) return;
      this.listen().catch(() => setTimeout(retry, this.options.reconnectDelayMs ?? 1_000).unref());
    };
    setTimeout(retry, this.options.reconnectDelayMs ?? 1_000).unref();
  }

  private clear(): void {
    this.changes++;
    this.bySlug.clear();
    this.byId.clear();
    this.misses.clear();
    for (const listener of this.invalidationListeners) listener(undefined);
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
        this.clear();
        this.reportLoss();
      }
    }
    if (this.outstanding || !this.listener || this.closed) return;
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
    const client = new pg.Client({ connectionString: this.database.sessionUrl, connectionTimeoutMillis: this.options.probeTimeoutMs ?? 1_000 });
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
      this.clear();
      this.confirmed = true;
      if (this.reportedLoss) this.options.onSyncChange?.(true);
      this.reportedLoss = false;
    }
  }
}
