import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantDomain } from '../../src/control/registry/tenant-domain.repository.js';
import { VERIFICATION_PATH } from '../../src/control/tenants/domain-verification.js';
import type { Database } from '../../src/db/database.js';
import { startCustomerSite, uniqueHost, type CustomerSite } from '../helpers/customer-site.js';
import { runCli } from '../helpers/run-cli.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

// Each call starts Node and tsx (about a second, more on a loaded machine).
describe('custom domains from the CLI', { timeout: 240_000 }, () => {
  let database: Database;
  let site: CustomerSite;
  beforeAll(async () => {
    database = await openTestDatabase();
    site = await startCustomerSite();
  });
  afterAll(async () => {
    await site.close();
    await database.close();
  });

  it('domain add, list, verify and remove, each printing what it did', async () => {
    const template = await tenantTemplate();
    const [acme, globex] = await Promise.all([seedTenant(database, template, 'cli_dom_a'), seedTenant(database, template, 'cli_dom_g')]);
    const host = uniqueHost('cli');
    const connectTo = { DOMAIN_VERIFICATION_CONNECT_TO: `127.0.0.1:${site.connectTo.port}` };

    const added = await runCli('tenant', ['domain', 'add', acme.slug, `${host.toUpperCase()}.`]);
    const { verification_token: token } = (await findTenantDomain(database.control, acme.id, host))!;
    expect([added.code, added.stdout]).toEqual([
      0,
      `added ${host} to tenant ${acme.slug}, unverified: it answers 404 until verified\n` +
        '  prove the tenant controls it: serve the token as the body (HTTP 200, no redirect) at\n' +
        `    http://${host}${VERIFICATION_PATH}${token}\n` +
        `  then: npm run tenant -- domain verify ${acme.slug} ${host}\n`,
    ]);

    const notServed = await runCli('tenant', ['domain', 'verify', acme.slug, host], connectTo);
    expect([notServed.code, notServed.stderr]).toEqual([1, expect.stringMatching(/^error \[DOMAIN_TOKEN_NOT_SERVED\]: .* answered HTTP 404, not 200$/m)]);
    site.pages.set(`${VERIFICATION_PATH}${token}`, { status: 200, body: `${token}\n` });
    const verified = await runCli('tenant', ['domain', 'verify', acme.slug, host], connectTo);
    expect([verified.code, verified.stdout]).toEqual([0, `verified ${host}: it now serves tenant ${acme.slug}\n`]);

    // Verified, the host is acme's alone.
    const taken = await runCli('tenant', ['domain', 'add', globex.slug, host]);
    expect([taken.code, taken.stderr]).toEqual([1, expect.stringMatching(new RegExp(`^error \\[DOMAIN_TAKEN\\]: "${host}" is already verified for another tenant$`, 'm'))]);

    const listed = await runCli('tenant', ['domain', 'list', acme.slug]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^HOST +VERIFIED +TOKEN\\n${host.replaceAll('.', '\\.')} +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +${token}\\n1 domain\\n$`));
    const json = JSON.parse((await runCli('tenant', ['domain', 'list', acme.slug, '--json'])).stdout) as { host: string; verified_at: string | null }[];
    expect(json).toEqual([expect.objectContaining({ host, verified_at: expect.any(String) })]);

    const removed = await runCli('tenant', ['domain', 'remove', acme.slug, host]);
    expect([removed.code, removed.stdout]).toEqual([0, `removed ${host} from tenant ${acme.slug}: it no longer serves it\n`]);
    expect((await runCli('tenant', ['domain', 'list', acme.slug])).stdout).toBe(`tenant ${acme.slug} has no custom domains: npm run tenant -- domain add ${acme.slug} <host>\n`);
  });

  it('mistakes are usage errors (exit 2) or coded refusals (exit 1), never a stack trace', async () => {
    const noAction = await runCli('tenant', ['domain']);
    expect([noAction.code, noAction.stderr]).toEqual([2, expect.stringContaining('domain needs one of add, list, verify, remove')]);
    const noHost = await runCli('tenant', ['domain', 'add', 'acme']);
    expect([noHost.code, noHost.stderr]).toEqual([2, expect.stringContaining('domain add needs a slug and a host')]);
    const badSlug = await runCli('tenant', ['domain', 'list', 'Bad Slug']);
    expect([badSlug.code, badSlug.stderr]).toEqual([1, expect.stringMatching(/^error \[INVALID_SLUG\]/m)]);
    const badHost = await runCli('tenant', ['domain', 'add', 'nobody_here', 'under_score.example']);
    expect([badHost.code, badHost.stderr]).toEqual([1, expect.stringMatching(/^error \[INVALID_DOMAIN\]: invalid domain "under_score.example": the label "under_score"/m)]);
    for (const result of [noAction, noHost, badSlug, badHost]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
