import type { ControlPlaneChanges } from '../../db/control-changes.js';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { TenantCache, type TenantCacheOptions, type TenantChange } from './tenant-cache.js';
import { TenantChangeChannel, type TenantChangeChannelOptions } from './tenant-change-channel.js';
import { findTenantByVerifiedHost } from './tenant-domain.repository.js';
import { findTenantById, findTenantBySlug } from './tenant.repository.js';

export interface TenantRegistryOptions extends TenantCacheOptions, TenantChangeChannelOptions {}

/**
 * The control plane's registry, cached in this process. The request path reads
 * only memory once a tenant is cached. A dedicated session connection LISTENs
 * for the triggers of control migrations 0002 and 0009 (tenant-change-channel.ts), so a
 * change committed by any process (a CLI, another server) evicts the entry
 * here (tenant-cache.ts) at once. Nothing is cached unless that channel is up
 * and a probe sent through it came back (see `heartbeatMs`): correctness over speed.
 */
export class TenantRegistry implements ControlPlaneChanges {
  private readonly cache: TenantCache;
  private readonly channel: TenantChangeChannel;

  private constructor(
    private readonly database: Database,
    options: TenantRegistryOptions,
  ) {
    const cache = new TenantCache(options);
    this.cache = cache;
    this.channel = new TenantChangeChannel(database.sessionUrl, options, { changed: (change) => cache.invalidate(change), reset: () => cache.clear() });
  }

  static async start(database: Database, options: TenantRegistryOptions = {}): Promise<TenantRegistry> {
    const registry = new TenantRegistry(database, options);
    await registry.channel.start();
    return registry;
  }

  /** `client` is who spends the miss budget (a request's address); in-process callers share one. */
  async findBySlug(slug: string, client = 'process'): Promise<Tenant | undefined> {
    return this.cache.lookup('slug', slug, client, () => findTenantBySlug(this.database.control, slug), () => this.synced);
  }

  async findById(id: string, client = 'process'): Promise<Tenant | undefined> {
    return this.cache.lookup('id', id, client, () => findTenantById(this.database.control, id), () => this.synced);
  }

  /** The tenant a verified custom domain serves; `host` normalised (domain-name.ts). Unverified and unknown hosts alike find none. */
  async findByHost(host: string, client = 'process'): Promise<Tenant | undefined> {
    return this.cache.lookup('host', host, client, () => findTenantByVerifiedHost(this.database.control, host), () => this.synced);
  }

  /**
   * Moves on at every invalidation: a cache that loaded something while it
   * moved must not keep what it loaded, since the change may have come after
   * the read (see TenantCache.lookup).
   */
  get generation(): number {
    return this.cache.generation;
  }

  /** Drops what is cached for a tenant; callers that change a tenant in this process may call it directly. */
  invalidate(change: TenantChange): void {
    this.cache.invalidate(change);
  }

  /**
   * Other per-tenant caches (signing keys) follow the registry's: `listener`
   * gets the tenant id, or undefined when everything must be forgotten.
   */
  onInvalidate(listener: (tenantId: string | undefined) => void): void {
    this.cache.onInvalidate(listener);
  }

  /** Whether cached entries are trustworthy: the LISTEN connection is up and has shown that notifications reach it. */
  get synced(): boolean {
    return this.channel.synced;
  }

  get size(): number {
    return this.cache.size;
  }

  /** Unexpired "no such tenant" entries. */
  get missCacheSize(): number {
    return this.cache.missCacheSize;
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
