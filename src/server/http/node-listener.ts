import type http from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';

/** What Yoga (a whatwg-node server adapter) offers a node:http server. */
export interface NodeServableAdapter {
  handleNodeRequestAndResponse(request: http.IncomingMessage, response: http.ServerResponse, context: Record<string, unknown>): Response | Promise<Response>;
}

/**
 * A node:http listener for a Yoga instance that never answers with internals.
 * Yoga's own listener builds the request URL as `http://${Host}${target}`
 * and, when that throws (`Host: [`, a port over 65535), answers 500 with the
 * error's stack, install paths included; so does anything else that escapes
 * its request pipeline. Here such a request is refused with 400 BAD_REQUEST
 * before Yoga sees it, and whatever still escapes becomes a bare JSON 500.
 */
export function nodeListener(adapter: NodeServableAdapter, onError: (error: unknown) => void): http.RequestListener {
  return (request, response) => {
    if (!hasWellFormedUrl(request)) {
      sendError(response, 400, 'BAD_REQUEST', 'the request target or Host header does not form a valid URL');
      return;
    }
    Promise.resolve()
      .then(() => adapter.handleNodeRequestAndResponse(request, response, { req: request, res: response }))
      .then((answer) => sendNodeResponse(answer, response, request, true))
      .catch((error: unknown) => {
        onError(error);
        if (response.headersSent) response.destroy();
        else sendError(response, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      });
  };
}

/**
 * The target must be origin-form (`/path?query`; no absolute URL, no `*`),
 * and Host only a host with an optional port, nothing that would move or
 * re-split the URL (a path, user info, a second colon).
 */
export function hasWellFormedUrl(request: http.IncomingMessage): boolean {
  const target = request.url ?? '';
  if (!target.startsWith('/')) return false;
  // HTTP/1.0 may omit Host (node refuses an HTTP/1.1 request without one); Yoga then uses the local address.
  const host = request.headers.host ?? 'localhost';
  if (host === '' || /[/?#@\\\s]/.test(host)) return false;
  return URL.canParse(`http://${host}${target}`);
}

/** A coded JSON error, the body the APIs answer with, for a request neither of them should see. */
export function sendError(response: http.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}
