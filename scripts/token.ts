import { issueAccessToken } from '../src/auth/access-token.js';
import { rotatePlatformKey } from '../src/auth/authenticate-platform-admin.js';
import { findPlatformSecret } from '../src/auth/platform-auth.repository.js';
import { issuePlatformToken } from '../src/auth/platform-token.js';
import { findTenantAuth } from '../src/auth/tenant-auth.repository.js';
import { parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { runScript, UsageError } from '../src/cli/run-script.js';
import { validateSlug } from '../src/control/registry/slug.js';
import { getTenant } from '../src/control/tenants/tenant.service.js';
import { USER_ROLES, type UserRole } from '../src/db/tenant-database.js';

const USAGE = `usage:
  npm run token -- --tenant <slug> --role viewer|member|admin [--sub <subject>] [--ttl <seconds>]
  npm run token -- --platform-admin [--sub <operator>] [--ttl <seconds>] [--link]   for /admin/graphql (default ttl 1 hour);
                                                     --link prints a sign-in link for the console at /admin instead (15 minutes by default)
  npm run token -- --rotate-platform-key     new platform secret: every platform-admin token issued so far stops working`;
const { values } = parseCliArgs({
  options: {
    tenant: { type: 'string' },
    role: { type: 'string' },
    sub: { type: 'string' },
    ttl: { type: 'string' },
    'platform-admin': { type: 'boolean', default: false },
    link: { type: 'boolean', default: false },
    'rotate-platform-key': { type: 'boolean', default: false },
  },
}, USAGE);
const platformAdmin = values['platform-admin'];
const rotate = values['rotate-platform-key'];

/** --ttl, checked once in precheck. */
let ttlArg: number | undefined;

await runScript(
  async ({ config, database }) => {
    if (rotate) {
      await rotatePlatformKey(database);
      console.log('rotated the platform key: every platform-admin token issued before now is rejected');
      return;
    }
    if (platformAdmin) {
      const secret = await findPlatformSecret(database.control);
      if (!secret) throw new UsageError('the platform has no signing key; run npm run migrate');
      const subject = values.sub ?? 'operator';
      // A link lands in the browser's history: it lives 15 minutes unless --ttl says otherwise.
      const { token, expiresAt } = await issuePlatformToken(secret, subject, config, { ttlSeconds: ttlArg ?? (values.link ? 900 : 3600) });
      console.error(`platform-admin token for ${subject}, expires ${expiresAt.toISOString()}`);
      // The token rides in the fragment, which the browser never sends: the console takes it and drops it from the address bar.
      console.log(values.link ? `http://localhost:${config.port}/admin#token=${token}` : token);
      return;
    }
    const tenant = await getTenant(database, values.tenant!);
    const auth = await findTenantAuth(database.control, tenant.id);
    if (!auth) throw new UsageError(`tenant "${tenant.slug}" has no signing key; run npm run migrate`);
    const ttl = ttlArg ?? config.accessTokenTtlSeconds;
    const { token, expiresAt } = await issueAccessToken(
      { hmac: new TextEncoder().encode(auth.hmac_secret), idp: undefined },
      { subject: values.sub ?? `dev-${values.role}`, role: values.role as UserRole, tenantId: tenant.id },
      config,
      ttl,
    );
    console.error(`token for ${tenant.slug} as ${values.role}, expires ${expiresAt.toISOString()}`);
    console.log(token);
  },
  {
    ensureControlPlane: true,
    precheck: () => {
      ttlArg = wholeNumberArg('ttl', values.ttl, { min: 30, max: 7 * 86400 });
      if (rotate) {
        if (platformAdmin || values.link || values.tenant || values.role || values.sub || values.ttl) throw new UsageError('--rotate-platform-key takes no other option');
        return;
      }
      if (values.link && !platformAdmin) throw new UsageError('--link is for --platform-admin: the console signs in operators only');
      if (platformAdmin) {
        if (values.tenant || values.role) throw new UsageError('--platform-admin takes no --tenant or --role');
        return;
      }
      if (!values.tenant && !values.role) throw new UsageError('say what the token is for: --tenant <slug> --role <role>, or --platform-admin');
      if (!values.tenant) throw new UsageError('--role needs --tenant <slug>');
      if (!values.role) throw new UsageError('--tenant needs --role viewer|member|admin');
      validateSlug(values.tenant);
      if (!USER_ROLES.includes(values.role as UserRole)) throw new UsageError(`--role must be viewer, member or admin, got "${values.role}"`);
    },
  },
);
