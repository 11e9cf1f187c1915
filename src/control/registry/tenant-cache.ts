import { LRUCache } from 'lru-cache';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Tenant } from '../../db/control-database.js';
import { SchemataError } from '../../errors.js';

export interface TenantCacheOptions {
  /**
   * How long "no such tenant" is remembered, so a flood of requests for an
   * unknown slug (or Host) costs one query per interval, not one per request.
   * @default 5000
   */
  readonly missTtlMs?: number;
  /**
   * How many "no such tenant" answers are remembered; the least recently
   * asked go first, so a flood of invented slugs or Hosts cannot grow the process.
   * @default 10000
   */
  readonly missCacheSize?: number;
  /**
   * Control-plane lookups that may find nothing per window, per client (the
   * caller's address): slugs, ids and custom-domain hosts (a Host nobody
   * verified) alike. Past it, a slug, id or host that is not cached is refused
   * to that client with 429 RATE_LIMITED without a query; cached tenants and
   * remembered misses, and every other client, are unaffected.
   * @default { misses: 100, perSeconds: 1 }
   */
  readonly missBudget?: { readonly misses: number; readonly perSeconds: number };
}

type Entry = { readonly tenant: Tenant };
/** `host`: a verified custom domain (control migration 0009), normalised. */
export type TenantKey = 'slug' | 'id' | 'host';

/** A tenant change as the triggers of control migrations 0002 and 0009 (or a caller in this process) describe it. */
export interface TenantChange {
  readonly id?: string | null;
  readonly slugs?: readonly (string | null)[];
  /** Custom domains added, verified or removed. */
  readonly hosts?: readonly (string | null)[];
}

/**
 * The registry's memory: tenants by slug, id and custom domain, the "no such tenant"
 * answers, and the per-client budget for lookups that find nothing. What it
 * may keep is decided by the caller (`lookup`'s `mayCache`); what it must drop
 * comes from `invalidate` and `clear`.
 */
export class TenantCache {
  private readonly bySlug = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  private readonly byHost = new Map<string, Entry>();
  /** The cached hosts of each tenant id, so a change of the tenant evicts them too. */
  private readonly hostsById = new Map<string, Set<string>>();
  /** `slug:<slug>`, `id:<id>` and `host:<host>` that the control plane did not know. */
  private readonly misses: LRUCache<string, true>;
  private readonly missBudget: RateLimiterMemory;
  private readonly invalidationListeners: ((tenantId: string | undefined) => void)[] = [];
  private changes = 0;

  constructor(options: TenantCacheOptions) {
    this.misses = new LRUCache({ max: options.missCacheSize ?? 10_000, ttl: options.missTtlMs ?? 5_000 });
    const budget = options.missBudget ?? { misses: 100, perSeconds: 1 };
    this.missBudget = new RateLimiterMemory({ points: budget.misses, duration: budget.perSeconds });
  }

  get generation(): number {
    return this.changes;
  }

  get size(): number {
    return this.byId.size;
  }

  get missCacheSize(): number {
    this.misses.purgeStale();
    return this.misses.size;
  }

  onInvalidate(listener: (tenantId: string | undefined) => void): void {
    this.invalidationListeners.push(listener);
  }

  /** `mayCache` is asked after the load: whether the channel that would evict the entry is up. */
  async lookup(kind: TenantKey, key: string, client: string, load: () => Promise<Tenant | undefined>, mayCache: () => boolean): Promise<Tenant | undefined> {
    const cached = { slug: this.bySlug, id: this.byId, host: this.byHost }[kind].get(key);
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
    if (mayCache() && this.changes === generation) this.remember(kind, key, tenant);
    return tenant;
  }

  invalidate(change: TenantChange): void {
    this.changes++;
    const cached = change.id ? this.byId.get(change.id)?.tenant : undefined;
    if (change.id) {
      this.byId.delete(change.id);
      this.misses.delete(`id:${change.id}`);
    }
    if (cached) this.bySlug.delete(cached.slug);
    if (change.id) {
      for (const host of this.hostsById.get(change.id) ?? []) this.byHost.delete(host);
      this.hostsById.delete(change.id);
    }
    for (const slug of change.slugs ?? []) {
      if (!slug) continue;
      this.bySlug.delete(slug);
      this.misses.delete(`slug:${slug}`);
    }
    for (const host of change.hosts ?? []) {
      if (!host) continue;
      this.forgetHost(host);
      this.misses.delete(`host:${host}`);
    }
    for (const listener of this.invalidationListeners) listener(change.id ?? undefined);
  }

  /** Forgets everything, here and in the caches that follow this one. */
  clear(): void {
    this.changes++;
    this.bySlug.clear();
    this.byId.clear();
    this.byHost.clear();
    this.hostsById.clear();
    this.misses.clear();
    for (const listener of this.invalidationListeners) listener(undefined);
  }

  private remember(kind: TenantKey, key: string, tenant: Tenant | undefined): void {
    if (tenant) {
      const entry = { tenant };
      this.bySlug.set(tenant.slug, entry);
      this.byId.set(tenant.id, entry);
      if (kind === 'host') {
        this.forgetHost(key);
        this.byHost.set(key, entry);
        const hosts = this.hostsById.get(tenant.id) ?? new Set<string>();
        this.hostsById.set(tenant.id, hosts.add(key));
      }
    } else {
      this.misses.set(`${kind}:${key}`, true);
    }
  }

  private forgetHost(host: string): void {
    const entry = this.byHost.get(host);
    if (!entry) return;
    this.byHost.delete(host);
    this.hostsById.get(entry.tenant.id)?.delete(host);
  }
}
