import http from 'node:http';

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
   * DOMAIN_VERIFICATION_CONNECT_TO.
   */
  readonly connectTo?: { readonly host: string; readonly port: number } | undefined;
}

export type DomainCheckFailure = 'DOMAIN_UNREACHABLE' | 'DOMAIN_TOKEN_NOT_SERVED' | 'DOMAIN_TOKEN_MISMATCH';

/** Either the token was served, or the code and the reason, worded for the operator. */
export type DomainCheck = { readonly ok: true } | { readonly ok: false; readonly code: DomainCheckFailure; readonly reason: string };

/**
 * One GET of the token's URL over plain HTTP (ownership of the name, not of a
 * certificate, is what is checked, and a domain being set up has none yet).
 * No redirect is followed: the answer must come from the host itself. The
 * body, trimmed, must be the token; it is never echoed back.
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
