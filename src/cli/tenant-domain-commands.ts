import { domainToUnicode } from 'node:url';
import type { Config } from '../config.js';
import type { TenantDomain } from '../control/registry/tenant-domain.repository.js';
import { verificationUrl } from '../control/tenants/domain-verification.js';
import { addTenantDomain, listDomainsOfTenant, removeTenantDomain, verifyTenantDomain } from '../control/tenants/tenant-domain.service.js';
import type { Database } from '../db/database.js';
import { UsageError } from './run-script.js';
import { counted, formatTable } from './table.js';

/** `npm run tenant -- domain add|list|verify|remove <slug> [host]`: run the service, print the result. */

export const DOMAIN_ACTIONS = ['add', 'list', 'verify', 'remove'] as const;
type DomainAction = (typeof DOMAIN_ACTIONS)[number];

export interface DomainCommand {
  readonly action: DomainAction;
  readonly slug: string;
  /** Absent only for list. */
  readonly host: string | undefined;
}

/** Reads `<action> <slug> [host]`; a mistake is a UsageError before any connection. */
export function parseDomainCommand(args: readonly (string | undefined)[]): DomainCommand {
  const [action, slug, host, ...extra] = args;
  if (!DOMAIN_ACTIONS.includes(action as DomainAction)) throw new UsageError(`domain needs one of ${DOMAIN_ACTIONS.join(', ')}, e.g. domain add <slug> <host>`);
  if (!slug) throw new UsageError(`domain ${action} needs a slug`);
  if (action === 'list' ? host !== undefined : host === undefined) {
    throw new UsageError(action === 'list' ? `unexpected arguments: ${[host, ...extra].join(' ')}` : `domain ${action} needs a slug and a host`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  return { action: action as DomainAction, slug, host };
}

export async function domainCommand(database: Database, config: Config, command: DomainCommand, options: { readonly json: boolean }): Promise<void> {
  const { slug, host } = command;
  switch (command.action) {
    case 'add': {
      const domain = await addTenantDomain(database, config, slug, host);
      console.log(`added ${describe(domain)} to tenant ${slug}, unverified: it answers 404 until verified`);
      console.log('  prove the tenant controls it: serve the token as the body (HTTP 200, no redirect) at');
      console.log(`    ${verificationUrl(domain.host, domain.verification_token)}`);
      console.log(`  then: npm run tenant -- domain verify ${slug} ${domain.host}`);
      return;
    }
    case 'list': {
      const { domains } = await listDomainsOfTenant(database, slug);
      if (options.json) return console.log(JSON.stringify(domains, null, 2));
      if (domains.length === 0) return console.log(`tenant ${slug} has no custom domains: npm run tenant -- domain add ${slug} <host>`);
      console.log(
        formatTable(
          domains.map((d) => ({
            host: describe(d),
            verified: d.verified_at ? d.verified_at.toISOString() : 'no',
            token: d.verification_token,
          })),
        ),
      );
      console.log(counted(domains.length, 'domain'));
      return;
    }
    case 'verify': {
      const domain = await verifyTenantDomain(database, slug, host, { connectTo: config.domainVerificationConnectTo });
      console.log(`verified ${describe(domain)}: it now serves tenant ${slug}`);
      return;
    }
    case 'remove': {
      const domain = await removeTenantDomain(database, slug, host);
      console.log(`removed ${describe(domain)} from tenant ${slug}: it no longer serves it`);
      return;
    }
  }
}

/** The stored (ASCII) host, with the Unicode form beside it when they differ. */
function describe(domain: TenantDomain): string {
  const unicode = domainToUnicode(domain.host);
  return unicode === domain.host ? domain.host : `${domain.host} (${unicode})`;
}
