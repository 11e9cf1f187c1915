import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyAddr from 'proxy-addr';

/** What anonymous limits and the login throttle count by when no address is known (requests that did not come over node:http). */
const UNKNOWN_CLIENT = 'unknown';

/**
 * The address a request came from, as the key that anonymous rate limits and
 * the login throttle count by. It is the node:http socket's peer; only with
 * `trustedProxies` > 0 (TRUST_PROXY) is X-Forwarded-For read, and then only
 * the entry that many proxies back from the socket, because every entry
 * further left is whatever the client chose to send. IPv6 addresses count by
 * their /64, since one host commonly holds a whole /64 and could otherwise
 * walk through it; IPv4-mapped IPv6 counts as the IPv4 address.
 *
 * @param serverContext Yoga's server context: `{ req }` under node:http.
 */
export function clientAddress(serverContext: unknown, trustedProxies: number): string {
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  if (!req?.socket) return UNKNOWN_CLIENT;
  const address = proxyAddr(req, (_address, hop) => hop < trustedProxies);
  if (!address || !ipaddr.isValid(address)) return UNKNOWN_CLIENT;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}

/**
 * Whether a request comes from this machine itself and through no proxy: its
 * socket's peer is a loopback address and it carries no forwarding header (a
 * reverse proxy on the same host would otherwise make every client local). A
 * request that did not come over node:http (yoga.fetch in-process) is local.
 */
export function isLocalRequest(serverContext: unknown): boolean {
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  if (!req?.socket) return true;
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  const peer = req.socket.remoteAddress;
  if (!peer || !ipaddr.isValid(peer)) return false;
  const parsed = ipaddr.process(peer);
  return parsed.range() === 'loopback';
}
