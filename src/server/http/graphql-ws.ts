import type http from 'node:http';
import { trustedDocumentFor, type TrustedDocumentsOptions } from '../plugins/tenant/use-trusted-documents.js';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { isSchemataError } from '../../errors.js';
import type { GraphQLContext } from '../../graphql/context.js';

/**
 * Operations one socket may run at once: a client app needs a handful, and a
 * socket must not take the whole tenant's plan (or the server's cap) alone.
 * An SSE subscription is its own HTTP request, so this is the WebSocket's.
 */
export const MAX_OPERATIONS_PER_SOCKET = 25;

/** The tenant endpoints of yoga.ts's GRAPHQL_ENDPOINT: `/graphql` and `/t/<slug>/graphql`. */
const TENANT_ENDPOINT = /^(\/t\/[^/]+)?\/graphql$/;

export interface GraphqlWsServer {
  /** Closes every open socket (1001, going away) so the HTTP server can finish closing. */
  close(): Promise<void>;
}

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, GraphQLContext>['getEnveloped']>;

/**
 * graphql-ws (the protocol of Apollo Client, urql and Relay) on the same
 * node:http server as the tenant Yoga, per Yoga's recipe: each operation runs
 * through Yoga's own envelop, so it resolves the tenant from the upgrade
 * request (header, subdomain or path) and authenticates exactly as over HTTP.
 * A browser cannot send headers with a WebSocket, so the token comes in the
 * `connection_init` payload: `{ authorization: 'Bearer …' }`.
 */
export function serveGraphqlWs(
  server: http.Server,
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>,
  options: { readonly trusted?: TrustedDocumentsOptions | undefined } = {},
): GraphqlWsServer {
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request: http.IncomingMessage, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!TENANT_ENDPOINT.test(path)) return socket.destroy();
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });
  useServer<Record<string, unknown> | undefined>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args as ExecutionArgs),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args as ExecutionArgs),
      onSubscribe: async (ctx, _id, params) => {
        // graphql-ws registers the operation before asking, so this one is counted.
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET) {
          return [
            new GraphQLError(`this connection runs ${MAX_OPERATIONS_PER_SOCKET} operations, the most one may: complete one first, or open another connection`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'maxPerConnection', max: MAX_OPERATIONS_PER_SOCKET },
            }),
          ];
        }
        const upgrade = ctx.extra.request;
        const request = fetchRequest(yoga, upgrade, ctx.connectionParams?.authorization);
        const enveloped = yoga.getEnveloped({ request, req: upgrade, socket: ctx.extra.socket, params });
        // The HTTP pipeline's trusted-documents check (onParams) does not run here: asked the same question directly.
        const trusted = options.trusted && trustedDocumentFor(options.trusted, params);
        if (trusted instanceof GraphQLError) return [trusted];
        const document = trusted ?? enveloped.parse(params.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        let contextValue: unknown;
        try {
          contextValue = await enveloped.contextFactory();
        } catch (error) {
          // An unknown or suspended tenant, a bad token: the same coded refusal as over HTTP (Yoga has masked it already).
          if (error instanceof GraphQLError) return [error];
          if (isSchemataError(error)) return [new GraphQLError(error.message, { extensions: { code: error.code } })];
          throw error;
        }
        return { schema: enveloped.schema, operationName: params.operationName, document, variableValues: params.variables, contextValue, rootValue: enveloped };
      },
    },
    sockets,
  );
  return {
    close: () =>
      new Promise((resolve) => {
        for (const client of sockets.clients) client.close(1001, 'server shutting down');
        sockets.close(() => resolve());
      }),
  };
}

/** The upgrade request as the Fetch Request Yoga's context factory reads, its token from `connection_init`. */
function fetchRequest(yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>, upgrade: http.IncomingMessage, authorization: unknown): Request {
  const headers = new yoga.fetchAPI.Headers();
  for (const [name, value] of Object.entries(upgrade.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  if (typeof authorization === 'string') headers.set('authorization', authorization);
  return new yoga.fetchAPI.Request(`http://${upgrade.headers.host ?? 'localhost'}${upgrade.url ?? '/'}`, { headers });
}
