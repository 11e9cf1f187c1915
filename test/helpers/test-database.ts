import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { PROJECT_ROOT, type Config } from '../../src/config.js';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import { openDatabase, type Database, type OpenDatabaseOptions } from '../../src/db/database.js';
import { loadTemplate, type Template } from '../../src/migrations/template.js';

export const TEMPLATES_DIR = path.join(PROJECT_ROOT, 'schema-templates');

export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({
    databaseUrl: inject('databaseUrl'),
    databaseDirectUrl: undefined,
    testDatabaseUrl: undefined,
    tenantRoleLogin: 'auto',
    demoTenants: false,
    dataDir: path.join(PROJECT_ROOT, '.data', 'test'),
    templatesDir: TEMPLATES_DIR,
    poolSize: 20,
    connectionMaxSchemas: 1_000,
    migrateConcurrency: 4,
    port: 0,
    baseDomain: 'localhost',
    serverHosts: [],
    domainVerificationConnectTo: undefined,
    production: false,
    corsOrigins: [],
    logLevel: 'silent',
    redisUrl: undefined,
    // High enough that only the rate-limit tests ever meet it.
    rateLimitPerMinute: 1_000_000,
    anonymousRateLimitPerAddress: 1_000_000,
    anonymousRateLimitPerTenant: 1_000_000,
    trustProxy: 0,
    jwtIssuer: 'schemata',
    jwtAudience: 'schemata-api',
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 30 * 24 * 3600,
    // As in production: the whole suite runs with the response cache on.
    responseCacheTtlMs: 2_000,
    smtpUrl: undefined,
    mailFrom: undefined,
    metricsPort: 0,
    trustedDocumentsFile: undefined,
    trustedDocumentsOnly: false,
    otlpTracesUrl: undefined,
    settingsMasterKey: undefined,
    settingsMasterKeyFile: undefined,
    settingsPreviousMasterKeys: [],
    metricsHost: '127.0.0.1',
    metricsToken: undefined,
    ...overrides,
  });
}

/** A pool on this run's test database; close it in afterAll. */
export function openTestDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  return openDatabase(testConfig(), options);
}

export function tenantTemplate(): Promise<Template> {
  return loadTemplate(TEMPLATES_DIR, 'tenant');
}

/** Slugs are unique per call, so test files can run concurrently on one database. */
export function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * A new tenant on `plan`. Enterprise by default: it has every feature and no
 * user limit, so only tests about plans ever meet a plan's limits.
 */
export async function seedTenant(database: Database, template: Template, prefix = 't', { plan = 'enterprise' }: { plan?: string } = {}): Promise<Tenant> {
  return (await createTenant(database, template, { slug: uniqueSlug(prefix), plan })).tenant;
}

/**
 * A tenant template directory holding the real files plus `extra`
 * (file name → SQL), for tests of later, broken or edited migrations.
 */
export async function templatesWith(extra: Record<string, string>): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-templates-'));
  await fs.cp(TEMPLATES_DIR, root, { recursive: true });
  for (const [file, text] of Object.entries(extra)) await fs.writeFile(path.join(root, 'tenant', file), text);
  return root;
}

/** Reads as the server's login role, so it can look into any schema. */
export async function columnsOf(database: Database, schema: string, table: string): Promise<string[]> {
  const result = await sql<{ column_name: string }>`
    SELECT column_name FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table} ORDER BY ordinal_position
  `.execute(database.control);
  return result.rows.map((row) => row.column_name);
}
