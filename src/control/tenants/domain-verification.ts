import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Where a tenant publishes its token: `http://<host>/.well-known/schemata-verification/<token>`, the token as the body. */
export const VERIFICATION_PATH = '/.well-known/schemata-verification/';

export function verificationUrl(host: string, token: string): string {
  return `http://${host}${VERIFICATION_PATH}${token}`;
}

export interface DomainCheckOptions {
  /**
   * The whole check: connecting, the answer and its body.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Bytes of body read at most; a longer body is not the token.
   * @default 1024
   */
  readonly maxBodyBytes?: number;
  /**
   * Connect here instead of the domain's own address on port 80; the request
   * still names the domain in Host (curl's --connect-to). Config:
   * DOMAIN_VERIFICATION_CONNECT_TO. The only way to reach a non-public
   * address: without it, a domain that resolves to one is refused.
   */
  readonly connectTo?: { readonly host: string; readonly port: number } | undefined;
  /**
   * Tests only: the name lookup, in place of the system's (dns.lookup). What
   * it answers passes the same address check.
   */
  readonly resolve?: ((host: string) => Promise<readonly { readonly address: string; readonly family: number }[]>) | undefined;
}

/**
 * Where an ownership check never connects unless DOMAIN_VERIFICATION_CONNECT_TO
 * says so: an operator's verify would otherwise make this server fetch from
 * itself, its private network or the cloud's metadata service (169.254.169.254)
 * for whoever added the domain. IPv4-mapped IPv6 forms (::ffff:127.0.0.1) are
 * held to the IPv4 ranges by BlockList itself.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the old IPv4-compatible form
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IP literal) is one an ownership check may connect to. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why a connection was not even tried: carried as the error code of the lookup. */
const NON_PUBLIC_ADDRESS = 'SCHEMATA_NON_PUBLIC_ADDRESS';

/**
 * The lookup the connection itself uses, so the address checked is the
 * address connected to (a second DNS answer cannot slip in between). One
 * non-public address among the answers refuses them all.
 */
function publicAddressesOnly(resolve: NonNullable<DomainCheckOptions['resolve']>): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answers) => {
        if (answers.some((answer) => !isPublicAddress(answer.address))) {
          return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: NON_PUBLIC_ADDRESS }), '', 0);
        }
        const usable = options.family === 4 || options.family === 6 ? answers.filter((answer) => answer.family === options.family) : answers;
        const [first] = usable;
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, usable.map((answer) => ({ address: answer.address, family: answer.family })));
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

export type DomainCheckFailure = 'DOMAIN_UNREACHABLE' | 'DOMAIN_TOKEN_NOT_SERVED' | 'DOMAIN_TOKEN_MISMATCH';

/** Either the token was served, or the code and the reason, worded for the operator. */
export type DomainCheck = { readonly ok: true } | { readonly ok: false; readonly code: DomainCheckFailure; readonly reason: string };

/**
 * One GET of the token's URL over plain HTTP (ownership of the name, not of a
 * certificate, is what is checked, and a domain being set up has none yet).
 * No redirect is followed: the answer must come from the host itself. Only a
 * public address is connected to (DOMAIN_UNREACHABLE otherwise), unless
 * `connectTo` names the place. The body, trimmed, must be the token; it is
 * never echoed back.
 */
export function checkDomainToken(host: string, token: string, options: DomainCheckOptions = {}): Promise<DomainCheck> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBodyBytes = options.maxBodyBytes ?? 1_024;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (check: DomainCheck) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve(check);
    };
    const fail = (code: DomainCheckFailure, reason: string) => finish({ ok: false, code, reason });
    const port = options.connectTo?.port ?? 80;
    const request = http.get({
      host: options.connectTo?.host ?? host,
      port,
      path: `${VERIFICATION_PATH}${token}`,
      headers: { host, accept: 'text/plain', 'user-agent': 'schemata-domain-verification' },
      agent: false,
      ...(options.connectTo === undefined && { lookup: publicAddressesOnly(options.resolve ?? systemResolve) }),
    });
    const deadline = setTimeout(() => fail('DOMAIN_UNREACHABLE', `no complete answer within ${timeoutMs / 1000} s`), timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => fail('DOMAIN_UNREACHABLE', unreachableReason(host, port, error)));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const redirect = status >= 300 && status < 400 ? ' (a redirect, which is not followed: serve the token at this URL itself)' : '';
        return fail('DOMAIN_TOKEN_NOT_SERVED', `${verificationUrl(host, token)} answered HTTP ${status}${redirect}, not 200`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) return fail('DOMAIN_TOKEN_MISMATCH', `${verificationUrl(host, token)} answered with more than ${maxBodyBytes} bytes; the body must be the token alone`);
        chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => fail('DOMAIN_UNREACHABLE', unreachableReason(host, port, error)));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').trim();
        if (body === token) return finish({ ok: true });
        fail('DOMAIN_TOKEN_MISMATCH', `${verificationUrl(host, token)} answered 200, but its body (${size} bytes) is not this domain's token`);
      });
    });
  });
}

function unreachableReason(host: string, port: number, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case NON_PUBLIC_ADDRESS:
      // Nothing about what answers there: the operator asking may not be the one who may know.
      return `${host} resolves to a non-public address (loopback, private, link-local or reserved); the check connects only to public addresses`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no address found for ${host} (DNS: ${error.code})`;
    case 'ECONNREFUSED':
      return `${host} refused the connection on port ${port}`;
    case 'ECONNRESET':
      return `${host} closed the connection before answering`;
    default:
      return `could not reach ${host} (${error.code ?? 'connection failed'})`;
  }
}
