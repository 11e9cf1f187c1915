import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { SchemataError } from '../../errors.js';

/*
 * The one place a host name is normalised, for a custom domain an operator
 * adds and for the Host of a request alike: lowercase, no port, no trailing
 * dot, IDNA to ASCII (node's WHATWG host parser: Unicode and punycode forms
 * of a name meet in one string), then kept to letters, digits and hyphens.
 */

const DOMAIN_MAX_LENGTH = 253;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Longer input is refused before IDNA runs on it. */
const INPUT_MAX_LENGTH = 1_000;

/** A Host (or an operator's input) as far as it can be read without deciding what it names. */
export type ParsedHost =
  | { readonly kind: 'ip' }
  /** ASCII, lowercase, without port or trailing dot; not yet held to the shape of a domain (`my_tenant.localhost` is a subdomain). */
  | { readonly kind: 'name'; readonly host: string }
  | { readonly kind: 'invalid'; readonly problem: string };

/** `port: 'strip'` for a request's Host; `'refuse'` for a domain an operator names. */
export function parseHost(input: string, options: { readonly port: 'strip' | 'refuse' }): ParsedHost {
  if (input.length > INPUT_MAX_LENGTH) return { kind: 'invalid', problem: `it is longer than ${DOMAIN_MAX_LENGTH} characters` };
  if (input.startsWith('[')) return { kind: 'ip' };
  let text = input.trim();
  const port = /:(\d*)$/.exec(text);
  if (port) {
    if (options.port === 'refuse') return { kind: 'invalid', problem: `a domain has no port: leave out "${port[0]}"` };
    text = text.slice(0, port.index);
  }
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return { kind: 'invalid', problem: 'it is empty' };
  // The WHATWG parser would decode these (ex%41mple.com is example.com); no client sends them.
  if (text.includes('%')) return { kind: 'invalid', problem: 'percent-escapes are not allowed' };
  if (isIP(text)) return { kind: 'ip' };
  const ascii = domainToASCII(text);
  if (ascii === '') return { kind: 'invalid', problem: 'it is not a valid (internationalised) domain name' };
  // 0x7f.1 is 127.0.0.1 to the WHATWG parser.
  if (isIP(ascii)) return { kind: 'ip' };
  return { kind: 'name', host: ascii };
}

/** Why `host` (as `parseHost` returns it) is no domain that could be registered, or undefined if it is one. */
export function domainShapeProblem(host: string): string | undefined {
  if (host.length > DOMAIN_MAX_LENGTH) return `it is longer than ${DOMAIN_MAX_LENGTH} characters`;
  const labels = host.split('.');
  if (labels.length < 2) return 'a custom domain has at least two labels, such as events.customer.example';
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return bad === ''
      ? 'it has an empty label (two dots in a row)'
      : `the label "${bad}" must be 1 to 63 letters, digits and hyphens, neither starting nor ending with a hyphen`;
  }
  return undefined;
}

/**
 * A custom domain as stored: refused with INVALID_DOMAIN (the problem named,
 * the input quoted) unless it is a DNS name of at least two labels.
 * `Events.Customer.Example.`, `bücher.example` and `xn--bcher-kva.example`
 * come back as `events.customer.example` and `xn--bcher-kva.example`.
 */
export function normalizeDomain(input: unknown, options: { readonly port: 'strip' | 'refuse' } = { port: 'refuse' }): string {
  const reject = (problem: string): never => {
    const quoted = typeof input === 'string' ? ` ${JSON.stringify(input.length > 100 ? `${input.slice(0, 100)}…` : input)}` : '';
    throw new SchemataError('INVALID_DOMAIN', `invalid domain${quoted}: ${problem}`, { field: 'host' });
  };
  if (typeof input !== 'string') return reject('it must be a string');
  const parsed = parseHost(input, options);
  if (parsed.kind === 'ip') return reject('an IP address is not a domain');
  if (parsed.kind === 'invalid') return reject(parsed.problem);
  const problem = domainShapeProblem(parsed.host);
  return problem === undefined ? parsed.host : reject(problem);
}

/** Hosts the platform itself answers on, which no tenant may register and no request resolves as a custom domain. */
export interface PlatformHosts {
  /** Tenants are `<slug>.<baseDomain>`; '' turns subdomains off. */
  readonly baseDomain: string;
  /** Other names that reach this server (a load balancer's, an internal service name). */
  readonly serverHosts: readonly string[];
}

/** Whether `host` (ASCII, lowercase) is the base domain, under it, or one of the server's own names. */
export function isPlatformHost(host: string, platform: PlatformHosts): boolean {
  const base = platform.baseDomain.toLowerCase();
  if (base !== '' && (host === base || host.endsWith(`.${base}`))) return true;
  return platform.serverHosts.includes(host);
}

/**
 * Whether a request's Host (as sent, port and all) names the server itself
 * rather than a tenant: the base domain itself (not its subdomains), one of
 * SERVER_HOSTS, an IP, or a single label such as localhost, which no tenant
 * can have. Only these serve the operators' /admin.
 */
export function namesTheServer(sent: string, platform: PlatformHosts): boolean {
  const parsed = parseHost(sent, { port: 'strip' });
  if (parsed.kind !== 'name') return parsed.kind === 'ip';
  const { host } = parsed;
  return !host.includes('.') || host === platform.baseDomain.toLowerCase() || platform.serverHosts.includes(host);
}
