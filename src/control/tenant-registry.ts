import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Tenant } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { SchemataError } from '../errors.js';
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
   * Control-plane lookups that may find nothing per window, for the whole
   * process. Past it, a slug or id that is not cached is refused with 429
   * RATE_LIMITED without a query; cached tenants are unaffected.
   * @default { misses: 100, perSeconds: 1 }
   */
  readonly missBudget?: { readonly misses: number; readonly perSeconds: number };
  /** @default 1000 */
  readonly reconnectDelayMs?: number;
}

type Entry = { readonly tenant: Tenant };
type Kind = 'slug' | 'id';

const MISS_BUDGET_KEY = 'unknown-tenant';

/**
 * The control plane's registry, cached in this process. The request path reads
 * only memory once a tenant is cached. A dedicated connection LISTENs for the
 * trigger in control migration 0002, so a change committed by any process (a
 * CLI, another server) evicts the entry here at once. While that connection
 * is down, nothing is cached: correctness over speed.
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
    return registry;
  }

  async findBySlug(slug: string): Promise<Tenant | undefined> {
    return this.lookup('slug', slug, () => findTenantBySlug(this.database.control, slug));
  }

  async findById(id: string): Promise<Tenant | undefined> {
    return this.lookup('id', id, () => findTenantById(this.database.control, id));
  }

  /** Drops what is cached for a tenant; callers that change a tenant in this process may call it directly. */
  invalidate(change: { readonly id?: string | null; readonly slugs?: readonly (string | null)[] }): void {
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

  /** Whether cached entries are trustworthy: true while the LISTEN connection is up. */
  get synced(): boolean {
    return this.listening;
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
    await this.listener?.end().catch(() => undefined);
  }

  private async lookup(kind: Kind, key: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    const cached = (kind === 'slug' ? this.bySlug : this.byId).get(key);
    if (cached) return cached.tenant;
    if (this.misses.has(`${kind}:${key}`)) return undefined;
    // Only misses spend the budget, so a known tenant that is not cached yet
    // still resolves unless invented names have used it up. Lookups already
    // in flight when it runs out may still miss: at most one per waiting request.
    const spent = await this.missBudget.get(MISS_BUDGET_KEY);
    if (spent && spent.remainingPoints <= 0) throw new SchemataError('RATE_LIMITED', 'too many requests for unknown tenants right now; retry in a few seconds');
    const tenant = await load();
    if (!tenant) await this.missBudget.penalty(MISS_BUDGET_KEY, 1);
    if (this.listening) this.remember(kind, key, tenant);
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
      try {
        this.invalidate(JSON.parse(message.payload ?? '{}') as { id?: string; slugs?: string[] });
      } catch {
        this.clear();
      }
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
    this.clear();
    if (this.closed) return;
    const retry = () => {
      if (this.closed) return;
      this.listen().catch(() => setTimeout(retry, this.options.reconnectDelayMs ?? 1_000).unref());
    };
    setTimeout(retry, this.options.reconnectDelayMs ?? 1_000).unref();
  }

  private clear(): void {
    this.bySlug.clear();
    this.byId.clear();
    this.misses.clear();
    for (const listener of this.invalidationListeners) listener(undefined);
  }
}
