import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, so paths work whatever the working directory is. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Config {
  /**
   * Postgres to use for requests; it may be a transaction pooler (PgBouncer).
   * When absent, the embedded server under `dataDir` is started or reused.
   */
  readonly databaseUrl: string | undefined;
  /**
   * A direct session connection to the same database, for what needs a
   * session: the registry's LISTEN, and the CLIs (migrations, export, import,
   * clone). Absent: DATABASE_URL serves both.
   */
  readonly databaseDirectUrl: string | undefined;
  /**
   * Whether tenant roles may log in (TENANT_ROLE_LOGIN=auto|on|off). Citus
   * opens its worker connections as the current role, which inside a tenant
   * transaction is the tenant's, so on Citus tenant roles need LOGIN and a
   * credential the workers accept. 'auto' (the default) means on exactly when
   * the citus extension is installed.
   */
  readonly tenantRoleLogin: 'auto' | 'on' | 'off';
  /** `npm start` creates and seeds the demo tenants (acme, globex) whenever they are missing (DEMO_TENANTS=off: never). */
  readonly demoTenants: boolean;
  /** Where the embedded server keeps its cluster and credentials. */
  readonly dataDir: string;
  /** Root of `control/` and `tenant/` migration templates. */
  readonly templatesDir: string;
  /** Connections the process may hold; fleet migrations need at least `migrateConcurrency`. */
  readonly poolSize: number;
  /**
   * Distinct tenant schemas one pooled connection may visit before it is
   * closed and replaced (PG_CONNECTION_MAX_SCHEMAS; 0: never). A PostgreSQL
   * backend caches the catalog entries of every relation it touches and never
   * gives them back, so with thousands of tenants each long-lived backend
   * would grow to hold the whole catalog.
   */
  readonly connectionMaxSchemas: number;
  readonly migrateConcurrency: number;
  readonly port: number;
  /** Requests to `<slug>.<baseDomain>` name their tenant by subdomain; empty turns that off. */
  readonly baseDomain: string;
  /**
   * Other names this server is reached by (SERVER_HOSTS, comma-separated: a
   * load balancer's, an internal service name). A Host that is neither under
   * the base domain, nor one of these, nor an IP or a single label
   * (localhost) is looked up as a tenant's custom domain: a verified one names
   * its tenant; any other is ignored beside X-Tenant-ID or /t/<slug>/, and
   * refused with 404 when it is all a request has. /admin answers only on
   * these, the base domain itself, IPs and single labels.
   */
  readonly serverHosts: readonly string[];
  /**
   * Where a custom domain's verification connects instead of the domain's own
   * address, port 80, still asking for `http://<domain>/.well-known/…` with
   * the domain in Host (DOMAIN_VERIFICATION_CONNECT_TO=host:port, as curl's
   * --connect-to): a staging setup whose domains do not resolve yet, and tests.
   * It also lifts the refusal of non-public addresses, so it is refused with
   * NODE_ENV=production: one variable would send every domain's check to one place.
   */
  readonly domainVerificationConnectTo: { readonly host: string; readonly port: number } | undefined;
  /** GraphiQL is served unless this is true (NODE_ENV=production). */
  readonly production: boolean;
  /** Overrides every plan's requests-per-minute limit (load tests, special deployments). */
  readonly rateLimitPerMinute: number | undefined;
  /** Requests without a token, per client address and minute (over all tenants), and per tenant and minute; never the plan's budget. */
  readonly anonymousRateLimitPerAddress: number;
  readonly anonymousRateLimitPerTenant: number;
  /**
   * Proxies in front of the server whose X-Forwarded-For is believed (TRUST_PROXY):
   * the client is the address that many hops back; 0 uses the socket's peer.
   */
  readonly trustProxy: number;
  /** Per-tenant rate-limit counters live here when set, shared by every server instance. */
  readonly redisUrl: string | undefined;
  /** pino level for the server's JSON log. */
  readonly logLevel: string;
  /** Browser origins allowed to call the API with credentials; empty sends no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** `iss` and `aud` of the tokens built-in identity issues, and demands back. */
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** Server the test suite uses instead of starting its own embedded one. */
  readonly testDatabaseUrl: string | undefined;
  /**
   * How long a query result is served from memory; 0 turns the response cache
   * off. It bounds how stale a read can be after a write this process does not
   * see (another instance, the CLI); this process's own mutations invalidate at once.
   */
  readonly responseCacheTtlMs: number;
  /**
   * Where invitations and reset tokens are sent (smtp:// or smtps://, with
   * credentials). Without it a production server answers those mutations with
   * MAIL_NOT_CONFIGURED; development writes them to the log instead.
   */
  readonly smtpUrl: string | undefined;
  /** The From of every mail; required with SMTP_URL. */
  readonly mailFrom: string | undefined;
  /** Prometheus /metrics listens here, never on the public port; undefined (METRICS_PORT=off) serves no metrics. */
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  /** When set, a scrape must send `Authorization: Bearer <metricsToken>` (for a METRICS_HOST others can reach). */
  readonly metricsToken: string | undefined;
  /**
   * A JSON file of trusted documents, `{ "<sha256 of the document>": "<document>" }`
   * (the persisted-documents manifest GraphQL Codegen and Relay write): a
   * request may send `extensions.persistedQuery.sha256Hash` (or `documentId`)
   * instead of the query, which then skips parsing and validation.
   */
  readonly trustedDocumentsFile: string | undefined;
  /** With the file: every request must name a trusted document; any other query is refused (production lockdown). */
  readonly trustedDocumentsOnly: boolean;
  /** Where OpenTelemetry traces go over OTLP/HTTP (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces); unset: no tracing. */
  readonly otlpTracesUrl: string | undefined;
  /**
   * The master key that wraps every tenant's settings data key (32 bytes,
   * base64 or hex), from SETTINGS_MASTER_KEY or the file SETTINGS_MASTER_KEY_FILE
   * names. Neither, outside production: a key kept under `dataDir`. Neither in
   * production: secret settings are refused (SETTINGS_KEY_UNAVAILABLE).
   */
  readonly settingsMasterKey: string | undefined;
  readonly settingsMasterKeyFile: string | undefined;
  /** Master keys being rotated out (SETTINGS_PREVIOUS_MASTER_KEYS, comma-separated): still unwrap, never wrap. */
  readonly settingsPreviousMasterKeys: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * The only reader of the environment. Every variable is validated and all
 * problems are reported together, so a misconfigured deploy fails once, not
 * once per variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const postgresUrl = (name: string): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') return raw;
      problems.push(`${name} must start with postgres:// or postgresql://, got "${url.protocol}//…"`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return undefined;
  };

  const baseDomain = (env.BASE_DOMAIN ?? 'localhost').toLowerCase();
  if (baseDomain !== '' && !HOST_NAME.test(baseDomain)) {
    problems.push(`BASE_DOMAIN must be a host name such as example.com, got "${baseDomain}"`);
  }
  const serverHosts = (env.SERVER_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean);
  for (const host of serverHosts) {
    if (!HOST_NAME.test(host)) problems.push(`SERVER_HOSTS entries must be host names such as schemata.internal.example, got "${host}"`);
  }
  let domainVerificationConnectTo: Config['domainVerificationConnectTo'];
  if (env.DOMAIN_VERIFICATION_CONNECT_TO) {
    const match = /^([a-z0-9.-]+|\[[0-9a-f:.]+\]):(\d{1,5})$/i.exec(env.DOMAIN_VERIFICATION_CONNECT_TO);
    const port = Number(match?.[2]);
    if (match && port >= 1 && port <= 65535) domainVerificationConnectTo = { host: match[1]!.replace(/^\[|\]$/g, ''), port };
    else problems.push(`DOMAIN_VERIFICATION_CONNECT_TO must be host:port such as 127.0.0.1:8080, got "${env.DOMAIN_VERIFICATION_CONNECT_TO}"`);
  }
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(nodeEnv)) problems.push(`NODE_ENV must be development, production or test, got "${nodeEnv}"`);
  if (nodeEnv === 'production' && env.DOMAIN_VERIFICATION_CONNECT_TO) {
    problems.push('DOMAIN_VERIFICATION_CONNECT_TO is for staging and tests, not NODE_ENV=production: it sends every domain\'s ownership check to one address, and to private ones too');
  }

  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS entries must look like https://app.example.com, got "${origin}"`);
  }

  if (env.LOG_LEVEL && !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(env.LOG_LEVEL)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${env.LOG_LEVEL}"`);
  }

  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl !== undefined) {
    // The URL carries the SMTP password: never echo it.
    const protocol = URL.canParse(smtpUrl) ? new URL(smtpUrl).protocol : undefined;
    if (protocol !== 'smtp:' && protocol !== 'smtps:') problems.push('SMTP_URL must be a URL starting with smtp:// or smtps://');
    if (!env.MAIL_FROM) problems.push('MAIL_FROM is required with SMTP_URL, e.g. "Schemata <no-reply@example.com>"');
  }
  if (env.MAIL_FROM && !/^[^@\s<>]+@[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>$/.test(env.MAIL_FROM)) {
    problems.push(`MAIL_FROM must be an address such as no-reply@example.com or "Name <no-reply@example.com>", got "${env.MAIL_FROM}"`);
  }

  const tenantRoleLogin = env.TENANT_ROLE_LOGIN || 'auto';
  if (tenantRoleLogin !== 'auto' && tenantRoleLogin !== 'on' && tenantRoleLogin !== 'off') {
    problems.push(`TENANT_ROLE_LOGIN must be auto, on or off, got "${tenantRoleLogin}"`);
  }

  const demoTenants = env.DEMO_TENANTS || 'on';
  if (demoTenants !== 'on' && demoTenants !== 'off') problems.push(`DEMO_TENANTS must be on or off, got "${demoTenants}"`);

  if (env.METRICS_TOKEN && !/^[\x21-\x7e]{16,200}$/.test(env.METRICS_TOKEN)) problems.push('METRICS_TOKEN must be 16 to 200 printable characters without spaces');

  const settingsPreviousMasterKeys = (env.SETTINGS_PREVIOUS_MASTER_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  // Checked here so a bad key stops the deploy, not the first secret; the key itself is never echoed.
  if (env.SETTINGS_MASTER_KEY && !isMasterKeyText(env.SETTINGS_MASTER_KEY)) problems.push(`SETTINGS_MASTER_KEY must be 32 bytes as base64 or hex (e.g. openssl rand -base64 32)`);
  if (settingsPreviousMasterKeys.some((k) => !isMasterKeyText(k))) problems.push('every SETTINGS_PREVIOUS_MASTER_KEYS entry must be 32 bytes as base64 or hex');
  if (env.SETTINGS_MASTER_KEY && env.SETTINGS_MASTER_KEY_FILE) problems.push('set SETTINGS_MASTER_KEY or SETTINGS_MASTER_KEY_FILE, not both');

  const config: Config = {
    databaseUrl: postgresUrl('DATABASE_URL'),
    databaseDirectUrl: postgresUrl('DATABASE_DIRECT_URL'),
    testDatabaseUrl: postgresUrl('TEST_DATABASE_URL'),
    tenantRoleLogin: tenantRoleLogin as Config['tenantRoleLogin'],
    demoTenants: demoTenants === 'on',
    dataDir: path.resolve(PROJECT_ROOT, env.SCHEMATA_DATA_DIR || '.data'),
    templatesDir: path.resolve(PROJECT_ROOT, env.SCHEMATA_TEMPLATES_DIR || 'schema-templates'),
    poolSize: int('PG_POOL_SIZE', 20, 1, 1000),
    connectionMaxSchemas: int('PG_CONNECTION_MAX_SCHEMAS', 1_000, 0, 1_000_000),
    migrateConcurrency: int('MIGRATE_CONCURRENCY', 4, 1, 256),
    port: int('PORT', 4000, 1, 65535),
    baseDomain,
    serverHosts,
    domainVerificationConnectTo,
    production: nodeEnv === 'production',
    corsOrigins,
    logLevel: env.LOG_LEVEL || 'info',
    redisUrl: env.REDIS_URL || undefined,
    anonymousRateLimitPerAddress: int('ANON_RATE_LIMIT_PER_ADDRESS', 120, 1, 100_000_000),
    anonymousRateLimitPerTenant: int('ANON_RATE_LIMIT_PER_TENANT', 600, 1, 100_000_000),
    trustProxy: int('TRUST_PROXY', 0, 0, 10),
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE ? int('RATE_LIMIT_PER_MINUTE', 600, 1, 100_000_000) : undefined,
    jwtIssuer: env.JWT_ISSUER || 'schemata',
    jwtAudience: env.JWT_AUDIENCE || 'schemata-api',
    accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 30, 24 * 3600),
    refreshTokenTtlSeconds: int('REFRESH_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
    responseCacheTtlMs: int('RESPONSE_CACHE_TTL_MS', 2_000, 0, 60_000),
    smtpUrl,
    mailFrom: env.MAIL_FROM || undefined,
    metricsPort: env.METRICS_PORT === 'off' ? undefined : int('METRICS_PORT', 9464, 0, 65535),
    metricsHost: env.METRICS_HOST || '127.0.0.1',
    metricsToken: env.METRICS_TOKEN || undefined,
    trustedDocumentsFile: env.TRUSTED_DOCUMENTS_FILE ? path.resolve(PROJECT_ROOT, env.TRUSTED_DOCUMENTS_FILE) : undefined,
    trustedDocumentsOnly: env.TRUSTED_DOCUMENTS_ONLY === 'true',
    settingsMasterKey: env.SETTINGS_MASTER_KEY || undefined,
    settingsMasterKeyFile: env.SETTINGS_MASTER_KEY_FILE ? path.resolve(PROJECT_ROOT, env.SETTINGS_MASTER_KEY_FILE) : undefined,
    settingsPreviousMasterKeys,
    otlpTracesUrl: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined),
  };
  if (config.databaseDirectUrl && !config.databaseUrl) {
    problems.push('DATABASE_DIRECT_URL is set without DATABASE_URL: the embedded server needs neither, a pooler needs both');
  }
  if (config.migrateConcurrency > config.poolSize) {
    problems.push(`MIGRATE_CONCURRENCY (${config.migrateConcurrency}) cannot exceed PG_POOL_SIZE (${config.poolSize})`);
  }
  if (env.TRUSTED_DOCUMENTS_ONLY !== undefined && env.TRUSTED_DOCUMENTS_ONLY !== 'true' && env.TRUSTED_DOCUMENTS_ONLY !== 'false') {
    problems.push(`TRUSTED_DOCUMENTS_ONLY must be true or false, got "${env.TRUSTED_DOCUMENTS_ONLY}"`);
  }
  if (config.otlpTracesUrl !== undefined && !URL.canParse(config.otlpTracesUrl)) problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT must be a URL such as http://collector:4318, got "${config.otlpTracesUrl}"`);
  if (config.trustedDocumentsOnly && !config.trustedDocumentsFile) problems.push('TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS_FILE: with no trusted document every request would be refused');
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** 32 bytes written as 64 hex digits or as base64 (padded or not, standard or URL alphabet). */
export function decodeMasterKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === 32 ? key : undefined;
}

function isMasterKeyText(text: string): boolean {
  return decodeMasterKey(text) !== undefined;
}
