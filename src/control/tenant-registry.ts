import pg from 'pg';
import type { Tenant } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { findTenantById, findTenantBySlug } from './tenant.repository.js';

const TENANT_CHANGED_CHANNEL = 'schemata_tenant_changed';

export interface TenantRegistryOptions {
  /**
   * How long "no such tenant" is remembered, so a flood of requests for an
   * unknown slug costs one query per interval, not one per request.
   * @default 5000
   */
  readonly missTtlMs?: number;
  /** @default 1000 */
  readonly reconnectDelayMs?: number;
}

type Entry = { readonly tenant: Tenant } | { readonly tenant: undefined; readonly expiresAt: number };

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
  private listener: pg.Client | undefined;
  private readonly invalidationListeners: ((tenantId: string | undefined) => void)[] = [];
  private listening = false;
  private closed = false;

  private constructor(
    private readonly database: Database,
    private readonly options: TenantRegistryOptions,
  ) {}

  static async start(database: Database, options: TenantRegistryOptions = {}): Promise<TenantRegistry> {
    const registry = new TenantRegistry(database, options);
    await registry.listen();
    return registry;
  }

  async findBySlug(slug: string): Promise<Tenant | undefined> {
    return this.lookup(this.bySlug, slug, () => findTenantBySlug(this.database.control, slug));
  }

  async findById(id: string): Promise<Tenant | undefined> {
    return this.lookup(this.byId, id, () => findTenantById(this.database.control, id));
  }

  /** Drops what is cached for a tenant; callers that change a tenant in this process may call it directly. */
  invalidate(change: { readonly id?: string | null; readonly slugs?: readonly (string | null)[] }): void {
    const cached = change.id ? this.byId.get(change.id)?.tenant : undefined;
    if (change.id) this.byId.delete(change.id);
    if (cached) this.bySlug.delete(cached.slug);
    for (const slug of change.slugs ?? []) if (slug) this.bySlug.delete(slug);
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

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    await this.listener?.end().catch(() => undefined);
  }

  private async lookup(map: Map<string, Entry>, key: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    const entry = map.get(key);
    if (entry && (entry.tenant || entry.expiresAt > Date.now())) return entry.tenant;
    const tenant = await load();
    if (this.listening) this.remember(map, key, tenant);
    return tenant;
  }

  private remember(map: Map<string, Entry>, key: string, tenant: Tenant | undefined): void {
    if (tenant) {
      const entry = { tenant };
      this.bySlug.set(tenant.slug, entry);
      this.byId.set(tenant.id, entry);
    } else {
      map.set(key, { tenant: undefined, expiresAt: Date.now() + (this.options.missTtlMs ?? 5_000) });
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
    for (const listener of this.invalidationListeners) listener(undefined);
  }
}
