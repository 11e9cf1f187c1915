import { LoginThrottle } from '../auth/login-throttle.js';
import { createConfiguredMailer, type Mailer } from '../auth/mailer.js';
import { ResetMailLimit } from '../auth/reset-mail-limit.js';
import { TenantKeyStore } from '../auth/tenant-keys.js';
import { VerifiedTokenCache } from '../auth/verified-token-cache.js';
import type { Config } from '../config.js';
import { PlanCatalog } from '../control/plans/plan-catalog.js';
import { loadMasterKeys, type MasterKeys } from '../control/settings/settings-cipher.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from './observability/tracing.js';
import { loadTrustedDocuments, type TrustedDocuments } from './trusted-documents.js';
import { createRedisPlanSubscriptionSlots, type PlanSubscriptionSlots } from '../realtime/plan-subscription-slots.js';
import { RowChangeFeed, type FanOut } from '../realtime/row-change-feed.js';
import { TenantRegistry, type TenantRegistryOptions } from '../control/registry/tenant-registry.js';
import type { Database } from '../db/database.js';
import { HeavyOperationLane } from './limits/heavy-operation-lane.js';
import { TenantConcurrency } from './limits/tenant-concurrency.js';
import { createTenantRateLimiter, type TenantRateLimiter } from './limits/tenant-rate-limiter.js';
import { TenantStorageMeter } from './limits/tenant-storage-meter.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createReadiness, type Readiness } from './observability/readiness.js';
import { UsageRecorder } from './observability/usage-recorder.js';

/**
 * What the composition root may be given instead of building it. A service
 * passed in stays the caller's: `close()` stops only what the root built.
 */
export interface ServiceOptions {
  /** Options for the registry the root starts (tests shorten its heartbeat or miss budget). */
  readonly registry?: TenantRegistryOptions;
  /** The tenant template's head: /ready waits until no live tenant is behind it. Without it (or `readiness`) /ready is 200 while the process runs. */
  readonly latestTemplateVersion?: number;
  /** The JSON log. @default a pino logger at config.logLevel on stdout */
  readonly logger?: Logger;
  /** Filled by every request; main.ts serves them on the metrics port. @default Prometheus metrics for this database's pool */
  readonly metrics?: Metrics;
  /** @default at most a quarter of the pool (and at least 2) per tenant */
  readonly tenantConcurrency?: TenantConcurrency;
  /** Per-tenant request limits from the tenant's plan. @default in memory, or in Redis when config.redisUrl is set */
  readonly rateLimiter?: TenantRateLimiter;
  /** Plans, cached and refreshed on the registry's notifications. @default a PlanCatalog over the registry */
  readonly plans?: PlanCatalog;
  /** Each tenant's measured storage, for the plan's maxStorageBytes. @default measurements trusted for 30 s */
  readonly storageMeter?: TenantStorageMeter;
  /** How invitations and reset tokens are delivered; null refuses them (MAIL_NOT_CONFIGURED). @default the mailer config asks for */
  readonly mailer?: Mailer | null;
  /** @default a LoginThrottle of 5 failures per address and account per 15 minutes, 50 per account per hour */
  readonly loginThrottle?: LoginThrottle;
  /** Answers /ready; null (or no `latestTemplateVersion`) leaves it 200 while the process runs. */
  readonly readiness?: Readiness | null;
  /** Counts requests per tenant and day for the admin API; null records nothing. @default a UsageRecorder that logs failed flushes */
  readonly usage?: UsageRecorder | null;
  /** Where each tenant's heavy operations wait their turn. @default a HeavyOperationLane with its defaults */
  readonly heavyLane?: HeavyOperationLane;
  /** How the subscriptions' feed picks the streams a change reaches. @default byTenant */
  readonly rowChangeFanOut?: FanOut;
  /** Tests send spans here instead of over OTLP; with neither (no OTEL_EXPORTER_OTLP_ENDPOINT) there is no tracing. */
  readonly traceExporter?: SpanExporter;
  /** Where plan subscription limits are counted across servers; null counts per server. @default Redis when REDIS_URL is set */
  readonly planSubscriptionSlots?: PlanSubscriptionSlots | null;
}

/** Every service shared by the requests of one process, each built once. */
export interface Services {
  readonly config: Config;
  readonly database: Database;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly registry: TenantRegistry;
  readonly keys: TenantKeyStore;
  readonly verifiedTokens: VerifiedTokenCache;
  readonly loginThrottle: LoginThrottle;
  readonly resetMails: ResetMailLimit;
  readonly mailer: Mailer | null;
  readonly plans: PlanCatalog;
  readonly storageMeter: TenantStorageMeter;
  readonly rateLimiter: TenantRateLimiter;
  readonly tenantConcurrency: TenantConcurrency;
  readonly heavyLane: HeavyOperationLane;
  readonly readiness: Readiness | null;
  readonly usage: UsageRecorder | null;
  /** The one LISTEN session for every subscription of the process. */
  readonly rowChanges: RowChangeFeed;
  /** TRUSTED_DOCUMENTS_FILE, parsed at start; undefined without it. */
  readonly trustedDocuments: TrustedDocuments | undefined;
  /** OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test exporter given); off by default. */
  readonly tracing: Tracing | undefined;
  /** The settings master keys (SETTINGS_MASTER_KEY…), read once at start. */
  readonly settingsKeys: MasterKeys;
  /**
   * Stops what the root started: the subscriptions' feed (ending its streams), the registry's LISTEN connection, the rate
   * limiter's Redis, then the last usage flush. Call it after the listeners
   * stopped taking requests, and close the database after it.
   */
  close(): Promise<void>;
}

/** What the admin API needs: it caches nothing, so it needs no registry. */
export type AdminServices = Pick<Services, 'config' | 'database' | 'logger' | 'settingsKeys'>;

/**
 * The rate limiter the config asks for: Redis-backed when REDIS_URL is set.
 * RATE_LIMIT_PER_MINUTE replaces every plan's request limits with that one
 * rate, so it also lifts the daily limit (load tests, special deployments).
 */
export function rateLimiterSettings(config: Pick<Config, 'redisUrl' | 'rateLimitPerMinute' | 'anonymousRateLimitPerAddress' | 'anonymousRateLimitPerTenant'>) {
  const override = config.rateLimitPerMinute;
  return {
    redisUrl: config.redisUrl,
    anonymousPerAddressPerMinute: config.anonymousRateLimitPerAddress,
    anonymousPerTenantPerMinute: config.anonymousRateLimitPerTenant,
    ...(override !== undefined && { requestsPerMinute: () => override, requestsPerDay: () => null }),
  };
}

/**
 * The composition root: main.ts and the test servers both build their
 * services here, so a test server differs from production only in what the
 * test passes in.
 */
export async function createServices(config: Config, database: Database, options: ServiceOptions = {}): Promise<Services> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Before anything holds a connection: a bad manifest fails the start at once.
  const trustedDocuments = config.trustedDocumentsFile ? await loadTrustedDocuments(config.trustedDocumentsFile) : undefined;
  const settingsKeys = loadMasterKeys(config);
  const tracing = options.traceExporter || config.otlpTracesUrl ? startTracing({ exporter: options.traceExporter, otlpTracesUrl: config.otlpTracesUrl }) : undefined;
  const registry = await TenantRegistry.start(database, {
    onSyncChange: (synced) =>
      synced
        ? logger.info('registry in sync: tenants, keys and plans are cached again')
        : logger.warn('registry out of sync (its LISTEN is down or through a transaction pooler): every request reads tenants, keys and plans from the control plane until a probe comes back'),
    ...options.registry,
  });
  // The registry holds connections from here on (and the feed, Redis): a failure building the rest must not leave them open.
  let rowChanges: RowChangeFeed | undefined;
  try {
    const keys = new TenantKeyStore(database, registry);
    const verifiedTokens = new VerifiedTokenCache();
    registry.onInvalidate((tenantId) => verifiedTokens.forgetTenant(tenantId));
    const feed = (rowChanges = new RowChangeFeed(database.sessionUrl, {
      fanOut: options.rowChangeFanOut,
      unavailable: database.citusVersion === undefined ? undefined : 'subscriptions are not available on a Citus cluster yet: poll the query instead',
      planSlots: options.planSubscriptionSlots !== undefined ? (options.planSubscriptionSlots ?? undefined) : config.redisUrl ? createRedisPlanSubscriptionSlots(config.redisUrl) : undefined,
    }));
    await feed.start();
    // After the token cache forgot the tenant, so a rotated key is checked against the new keys.
    registry.onInvalidate((tenantId) => feed.tenantChanged(tenantId));

    const mailer = options.mailer !== undefined ? options.mailer : createConfiguredMailer(config);
    if (options.mailer === undefined && !mailer) logger.warn('SMTP_URL is not set: inviteUser and requestPasswordReset answer MAIL_NOT_CONFIGURED');
    const rateLimiter = options.rateLimiter ?? createTenantRateLimiter(rateLimiterSettings(config));
    const redisWaitMs = 2_000;
    if (!(await rateLimiter.ready(redisWaitMs))) logger.warn(`Redis did not answer within ${redisWaitMs} ms: rate limits count in this process until it does`);
    const usage =
      options.usage !== undefined ? options.usage : new UsageRecorder(database, { onError: (error) => logger.warn({ err: error }, 'recording usage failed; kept for the next flush') });
    const readiness =
      options.readiness !== undefined ? options.readiness : options.latestTemplateVersion === undefined ? null : createReadiness(database, options.latestTemplateVersion);

    return {
      config,
      database,
      logger,
      metrics:
        options.metrics ??
        createMetrics({
          pool: database.pool,
          subscriptions: () => feed.openByTenant(),
          tenantsBehind: readiness ? async () => (await readiness.state()).behind : undefined,
          registryInSync: () => registry.synced,
        }),
      registry,
      keys,
      verifiedTokens,
      loginThrottle: options.loginThrottle ?? new LoginThrottle(),
      resetMails: new ResetMailLimit(),
      mailer,
      plans: options.plans ?? new PlanCatalog(database, registry),
      storageMeter: options.storageMeter ?? new TenantStorageMeter(),
      rateLimiter,
      tenantConcurrency: options.tenantConcurrency ?? new TenantConcurrency({ perTenant: Math.max(2, Math.floor((database.pool.options.max ?? 10) / 4)), total: database.pool.options.max ?? 10 }),
      heavyLane: options.heavyLane ?? new HeavyOperationLane(),
      readiness,
      usage,
      rowChanges: feed,
      trustedDocuments,
      tracing,
      settingsKeys,
      async close() {
        await feed.close();
        await tracing?.shutdown();
        await registry.close();
        if (!options.rateLimiter) await rateLimiter.close();
        if (options.usage === undefined) await usage?.close();
      },
    };
  } catch (error) {
    await rowChanges?.close().catch(() => undefined);
    await registry.close().catch(() => undefined);
    await tracing?.shutdown().catch(() => undefined);
    throw error;
  }
}
