import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface SubscriptionResult {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** What a subscriber has received, and a way to wait for more. */
export interface Subscriber {
  readonly results: SubscriptionResult[];
  /** Resolves when the stream has completed (the server ended it or the client closed it). */
  readonly ended: Promise<void>;
  /** Waits until `count` results have arrived. */
  received(count: number, timeoutMs?: number): Promise<SubscriptionResult[]>;
  close(): Promise<void>;
}

function collector() {
  const results: SubscriptionResult[] = [];
  const waiters = new Set<() => void>();
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  let isEnded = false;
  return {
    results,
    ended,
    push(result: SubscriptionResult) {
      results.push(result);
      for (const waiter of waiters) waiter();
    },
    end() {
      isEnded = true;
      end();
      for (const waiter of waiters) waiter();
    },
    received(count: number, timeoutMs = 5_000) {
      return new Promise<SubscriptionResult[]>((resolve, reject) => {
        const check = () => {
          if (results.length >= count) return done(() => resolve(results));
          if (isEnded) return done(() => reject(new Error(`the stream ended after ${results.length} of ${count} results: ${JSON.stringify(results)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${results.length} of ${count} results in ${timeoutMs} ms: ${JSON.stringify(results)}`))), timeoutMs);
        const done = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A graphql-sse ("distinct connections") subscriber: one POST answered with text/event-stream. */
export async function sseSubscribe(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<Subscriber & { status: number }> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const events = collector();
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const event = /^event: (.*)$/m.exec(message)?.[1];
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (event === 'next' && data) events.push(JSON.parse(data) as SubscriptionResult);
          if (event === 'complete') return;
        }
      }
    } catch {
      // Aborted by close().
    } finally {
      events.end();
    }
  })();
  return {
    status: response.status,
    results: events.results,
    ended: events.ended,
    received: events.received,
    async close() {
      abort.abort();
      await events.ended;
    },
  };
}

/** A graphql-ws subscriber; the token travels in connection_init as `authorization`. */
export function wsSubscribe(url: string, token: string | undefined, query: string, variables: Record<string, unknown> = {}): Subscriber {
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
  const events = collector();
  const stop = client.subscribe(
    { query, variables },
    {
      next: (result) => events.push(result as SubscriptionResult),
      error: (error) => {
        // A refusal at subscribe time arrives as an array of GraphQL errors.
        if (Array.isArray(error)) events.push({ errors: error as SubscriptionResult['errors'] });
        events.end();
      },
      complete: () => events.end(),
    },
  );
  return {
    results: events.results,
    ended: events.ended,
    received: events.received,
    async close() {
      stop();
      await client.dispose();
      events.end();
    },
  };
}
