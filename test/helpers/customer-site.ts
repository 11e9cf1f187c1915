import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the customer's web server answers a request. */
export type SiteAnswer =
  | {
      readonly status: number;
      readonly body?: string;
      readonly headers?: Record<string, string>;
      /** Answers only once this settles. */
      readonly after?: Promise<unknown>;
    }
  /** Accepts the request and never answers. */
  | 'hang';

export interface CustomerSite {
  /** For DomainCheckOptions.connectTo and DOMAIN_VERIFICATION_CONNECT_TO. */
  readonly connectTo: { readonly host: string; readonly port: number };
  /** Path → answer; any other path is 404. */
  readonly pages: Map<string, SiteAnswer>;
  /** Host header and path of every request, in order. */
  readonly requests: { host: string | undefined; path: string | undefined }[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 playing a tenant's own web server, where it
 * publishes (or fails to publish) its verification token; the verifier
 * reaches it through `connectTo` while sending the domain as Host.
 */
export async function startCustomerSite(): Promise<CustomerSite> {
  const pages = new Map<string, SiteAnswer>();
  const requests: CustomerSite['requests'] = [];
  const server = http.createServer((request, response) => {
    requests.push({ host: request.headers.host, path: request.url });
    const answer = pages.get(request.url ?? '') ?? { status: 404, body: 'not found' };
    if (answer === 'hang') return;
    void Promise.resolve(answer.after).then(() => {
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connectTo: { host: '127.0.0.1', port },
    pages,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A host no other test file uses: the registry is shared by every test on the database. */
export function uniqueHost(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}.customer.example`;
}
