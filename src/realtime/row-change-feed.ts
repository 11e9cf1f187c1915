import { ListeningSession } from '../db/listening-session.js';
import { SchemataError } from '../errors.js';
import { ChangeStream, ROW_CHANGE_TABLES, type RowChange, type RowChangeTable } from './change-stream.js';
import type { PlanSubscriptionSlots } from './plan-subscription-slots.js';

/** The channel schema-templates/tenant/0003_notify_row_changes.sql notifies. */
export const ROW_CHANGED_CHANNEL = 'schemata_row_changed';

/** Which open streams hear a change; `bySchema` holds each tenant schema's streams. */
export type FanOut = (change: RowChange, bySchema: ReadonlyMap<string, ReadonlySet<ChangeStream>>) => Iterable<ChangeStream>;

/** Only the streams of the changed row's own tenant. */
export const byTenant: FanOut = (change, bySchema) => bySchema.get(change.schema) ?? [];

/** Open streams one tenant may hold in one process unless told otherwise; a plan may allow fewer. */
export const DEFAULT_MAX_STREAMS_PER_TENANT = 200;

export interface RowChangeFeedOptions {
  /** @default 1000 */
  readonly reconnectDelayMs?: number;
  /** Tests substitute one that ignores the tenant, to prove the isolation test can see a leak. @default byTenant */
  readonly fanOut?: FanOut;
  /** Open streams one tenant may hold in this process, so one tenant cannot take them all. @default 200 */
  readonly maxPerTenant?: number;
  /** Open streams in this process. @default 5000 */
  readonly maxStreams?: number;
  /** Changes a stream may hold unconsumed before it is ended with SLOW_CONSUMER. @default 1000 */
  readonly maxQueued?: number;
  /** Set where no change is ever announced (on Citus, see tenant migration 0004): every subscription is refused with SUBSCRIPTIONS_UNAVAILABLE and this reason. */
  readonly unavailable?: string | undefined;
  /** Where plan limits are counted across servers (Redis, when REDIS_URL is set); without it each server counts its own streams. Closed with the feed. */
  readonly planSlots?: PlanSubscriptionSlots | undefined;
}

export interface ChangeStreamOptions {
  readonly tenant: { readonly id: string; readonly slug: string; readonly schema_name: string };
  /** The tenant's plan limit (control.plans.max_subscriptions); null: only the server's per-tenant cap. */
  readonly plan: { readonly name: string; readonly maxSubscriptions: number | null };
  readonly tables: readonly RowChangeTable[];
  /** When the subscriber's token expires (ms since the epoch): the stream ends with TOKEN_EXPIRED then. */
  readonly expiresAtMs?: number | undefined;
  /**
   * Asked again whenever the registry says the tenant (or its keys) changed:
   * a rejection with a SchemataError (suspended, deleted, token no longer
   * valid) ends the stream with that error.
   */
  readonly recheck?: () => Promise<void>;
}

/**
 * The one LISTEN session of a process for every tenant's subscriptions:
 * notifications carry ids only and are fanned out in memory to the open
 * streams of the notifying schema. Loading the rows is the subscriber's job,
 * in its own tenant scope (a batch per tenant), so nothing here reads tenant data.
 */
export class RowChangeFeed {
  private readonly bySchema = new Map<string, Set<ChangeStream>>();
  /** The slug of each schema with open streams, for metrics. */
  private readonly slugs = new Map<string, string>();
  private readonly rechecks = new Map<ChangeStream, () => Promise<void>>();
  private readonly session: ListeningSession;
  private readonly fanOut: FanOut;
  private readonly limits: { readonly perTenant: number; readonly streams: number; readonly queued: number };
  private readonly unavailable: string | undefined;
  private readonly planSlots: PlanSubscriptionSlots | undefined;
  private readonly slotReleases = new Map<ChangeStream, () => void>();

  constructor(sessionUrl: string, options: RowChangeFeedOptions = {}) {
    this.fanOut = options.fanOut ?? byTenant;
    this.unavailable = options.unavailable;
    this.planSlots = options.planSlots;
    this.limits = { perTenant: options.maxPerTenant ?? DEFAULT_MAX_STREAMS_PER_TENANT, streams: options.maxStreams ?? 5_000, queued: options.maxQueued ?? 1_000 };
    this.session = new ListeningSession(sessionUrl, ROW_CHANGED_CHANNEL, options.reconnectDelayMs ?? 1_000, {
      notification: (payload) => this.deliver(payload),
      listening: () => undefined,
      // Whatever was committed until LISTEN is back is never heard: rather than
      // a stream that silently skips, each ends and its client subscribes
      // again and refetches (graphql-ws and SSE clients retry on their own).
      lost: () => {
        const lost = new SchemataError('DATABASE_UNAVAILABLE', 'the change feed lost its database session and events may have been missed: subscribe again and refetch');
        for (const stream of [...this.rechecks.keys()]) stream.end(lost);
      },
    });
  }

  start(): Promise<void> {
    return this.session.start();
  }

  /** The LISTEN session's backend pid while it listens. */
  get backendPid(): number | undefined {
    return this.session.backendPid;
  }

  /** Open streams, for tests and metrics. */
  get size(): number {
    return this.rechecks.size;
  }

  /** Open streams per tenant slug, for /metrics. */
  openByTenant(): Map<string, number> {
    return new Map([...this.bySchema].map(([schema, streams]) => [this.slugs.get(schema)!, streams.size]));
  }

  /**
   * A stream within every limit: this server's (see `stream`), and the plan's
   * across every server that shares the plan slots. When the slots cannot
   * answer (Redis away), the plan limit holds per server, as without them.
   */
  async open(options: ChangeStreamOptions): Promise<ChangeStream> {
    const stream = this.stream(options);
    const max = options.plan.maxSubscriptions;
    // A stream admitted while Redis did not answer holds no place there: until it closes, Redis counts the tenant low.
    if (!this.planSlots || max === null || !stream.open) return stream;
    const slot = await this.planSlots.take(options.tenant.id, max).catch(() => undefined);
    if (slot === null) {
      stream.end();
      throw new SchemataError(
        'TOO_MANY_SUBSCRIPTIONS',
        `this tenant has ${max} subscriptions open across its servers and its plan "${options.plan.name}" allows ${max} (maxSubscriptions): close one or change plans`,
        { limit: 'maxSubscriptions', max, plan: options.plan.name },
      );
    }
    if (slot) {
      if (stream.open) this.slotReleases.set(stream, () => slot.release());
      else slot.release(); // ended (token expired, tenant changed) while the place was being taken
    }
    return stream;
  }

  /** A stream within this server's limits: its per-tenant and total caps, and the plan's as counted here. */
  stream(options: ChangeStreamOptions): ChangeStream {
    // A stream that would never receive anything is worse than a clear refusal.
    if (this.unavailable !== undefined) throw new SchemataError('SUBSCRIPTIONS_UNAVAILABLE', this.unavailable);
    const schema = options.tenant.schema_name;
    const open = this.bySchema.get(schema)?.size ?? 0;
    const planMax = options.plan.maxSubscriptions;
    if (planMax !== null && planMax < this.limits.perTenant && open >= planMax) {
      throw new SchemataError(
        'TOO_MANY_SUBSCRIPTIONS',
        `this tenant has ${open} subscriptions open on this server and its plan "${options.plan.name}" allows ${planMax} (maxSubscriptions): close one or change plans`,
        { limit: 'maxSubscriptions', max: planMax, current: open, plan: options.plan.name },
      );
    }
    if (open >= this.limits.perTenant) {
      throw new SchemataError('TOO_MANY_SUBSCRIPTIONS', `this tenant has ${this.limits.perTenant} subscriptions open on this server, the most it may: close one first`, { limit: 'maxPerTenant', max: this.limits.perTenant });
    }
    if (this.rechecks.size >= this.limits.streams) {
      throw new SchemataError('TOO_MANY_SUBSCRIPTIONS', 'this server holds as many subscriptions as it may: retry in a moment', { limit: 'maxStreams', max: this.limits.streams });
    }
    let expiry: NodeJS.Timeout | undefined;
    const stream = new ChangeStream(options.tenant.id, new Set(options.tables), (ended) => {
      clearTimeout(expiry);
      this.rechecks.delete(ended);
      this.slotReleases.get(ended)?.();
      this.slotReleases.delete(ended);
      const streams = this.bySchema.get(schema);
      streams?.delete(ended);
      if (streams?.size === 0) {
        this.bySchema.delete(schema);
        this.slugs.delete(schema);
      }
    }, this.limits.queued);
    const streams = this.bySchema.get(schema) ?? new Set();
    this.bySchema.set(schema, streams.add(stream));
    this.slugs.set(schema, options.tenant.slug);
    this.rechecks.set(stream, options.recheck ?? (() => Promise.resolve()));
    if (options.expiresAtMs !== undefined) {
      const expired = () => stream.end(new SchemataError('TOKEN_EXPIRED', 'the access token has expired: subscribe again with a fresh one'));
      // setTimeout's longest delay is about 24.8 days; a token valid longer is re-armed then.
      const arm = () => {
        const left = options.expiresAtMs! - Date.now();
        if (left <= 0) return expired();
        expiry = setTimeout(arm, Math.min(left, 2 ** 31 - 1)).unref();
      };
      arm();
    }
    return stream;
  }

  /** The registry's invalidation: each open stream of `tenantId` (every stream when undefined) asks again whether it may stay open. */
  tenantChanged(tenantId: string | undefined): void {
    for (const [stream, recheck] of this.rechecks) {
      if (tenantId !== undefined && stream.tenantId !== tenantId) continue;
      recheck().catch((error: unknown) =>
        stream.end(error instanceof SchemataError ? error : new SchemataError('DATABASE_UNAVAILABLE', 'the subscription could not be checked again; subscribe again')),
      );
    }
  }

  /** Completes every open stream, then closes the session. */
  async close(): Promise<void> {
    for (const stream of [...this.rechecks.keys()]) stream.end();
    await Promise.all([this.session.close(), this.planSlots?.close()]);
  }

  private deliver(payload: string): void {
    let change: RowChange;
    try {
      change = JSON.parse(payload) as RowChange;
    } catch {
      return;
    }
    if (typeof change.schema !== 'string' || typeof change.id !== 'string' || !ROW_CHANGE_TABLES.includes(change.table)) return;
    for (const stream of this.fanOut(change, this.bySchema)) stream.push(change);
  }
}
