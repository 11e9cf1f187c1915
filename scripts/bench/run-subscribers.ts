// Child process of the subscription benchmark: every subscriber, each on a
// connection of its own (a WebSocket with graphql-ws, or an SSE response),
// kept out of the server's process and the mutation driver's event loop.
// argv: <plan.json>. Talks to the parent over IPC (see subscription-plan.ts).
import fs from 'node:fs/promises';
import http from 'node:http';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import pLimit from 'p-limit';
import WebSocket from 'ws';
import { DEPLOYMENT_CHANGED, now, type PlannedSubscriber, type ReceivedEvent, type StreamEnd, type SubscriberCommand, type SubscriberMessage, type SubscriberPlan } from './subscription-plan.js';

interface Result {
  readonly data?: { readonly deploymentChanged?: { id: string; status: string; url: string } | null } | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

const plan = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as SubscriberPlan;
const total = plan.subscribers.length;
const events: ReceivedEvent[] = [];
const heard = new Uint32Array(total);
const ends: StreamEnd[] = [];
const ended = new Uint8Array(total);
const closers: (() => unknown)[] = [];
let closing = false;
let warmUpIds = new Set<string>();

const send = (message: SubscriberMessage) => process.send!(message);

function end(i: number, reason: string): void {
  if (closing || ended[i]) return;
  ended[i] = 1;
  ends.push([i, reason]);
}

function received(i: number, result: Result): void {
  const at = now();
  const error = result.errors?.[0];
  if (error) return end(i, error.extensions?.code ?? `uncoded: ${error.message}`);
  const node = result.data?.deploymentChanged;
  if (!node) return;
  heard[i]!++;
  events.push([i, decodeGlobalID(node.id).id, node.status, at, node.url.slice('https://'.length, node.url.indexOf('/', 'https://'.length))]);
}

/** graphql-ws hands its error sink GraphQL errors (a refusal), a CloseEvent or an Error. */
function reasonOf(error: unknown): string {
  if (Array.isArray(error)) {
    const first = error[0] as NonNullable<Result['errors']>[number] | undefined;
    return first?.extensions?.code ?? `uncoded: ${first?.message}`;
  }
  if (error && typeof error === 'object' && 'code' in error) return `close ${String(error.code)} ${'reason' in error ? String(error.reason) : ''}`.trim();
  return error instanceof Error ? error.message : String(error);
}

function openWs(i: number, s: PlannedSubscriber): Promise<void> {
  return new Promise((resolve) => {
    const client = createClient({
      url: `${plan.origin.replace(/^http/, 'ws')}/t/${s.slug}/graphql`,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${s.token}` },
      on: { connected: () => resolve() },
    });
    closers.push(() => client.dispose());
    client.subscribe(
      { query: DEPLOYMENT_CHANGED, variables: s.variables },
      {
        next: (result) => received(i, result as Result),
        error: (error) => (end(i, reasonOf(error)), resolve()),
        complete: () => (end(i, 'complete'), resolve()),
      },
    );
  });
}

/** A graphql-sse "distinct connections" subscriber: one POST answered with text/event-stream. */
function openSse(i: number, s: PlannedSubscriber): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(
      `${plan.origin}/t/${s.slug}/graphql`,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${s.token}` } },
      (response) => {
        resolve();
        if (response.statusCode !== 200) end(i, `HTTP ${response.statusCode}`);
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) >= 0) {
            const message = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const event = /^event: (.*)$/m.exec(message)?.[1];
            const data = /^data: (.*)$/m.exec(message)?.[1];
            if (event === 'next' && data) received(i, JSON.parse(data) as Result);
            else if (event === 'complete') end(i, 'complete');
          }
        });
        response.on('end', () => end(i, 'complete'));
        response.on('error', (error) => end(i, error.message));
      },
    );
    request.on('error', (error) => (end(i, (error as NodeJS.ErrnoException).code ?? error.message), resolve()));
    request.end(JSON.stringify({ query: DEPLOYMENT_CHANGED, variables: s.variables }));
    closers.push(() => request.destroy());
  });
}

const started = now();
const limit = pLimit(plan.openConcurrency);
let opened = 0;
let lastReport = 0;
await Promise.all(
  plan.subscribers.map((s, i) =>
    limit(async () => {
      await (s.transport === 'ws' ? openWs(i, s) : openSse(i, s));
      opened++;
      if (opened === total || Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        console.error(`opened ${opened}/${total} subscriptions`);
      }
    }),
  ),
);
const openMs = now() - started;
// A refusal of a WebSocket subscription comes after its connection was acknowledged.
await new Promise((resolve) => setTimeout(resolve, 1000));
const refused: Record<string, number> = {};
for (const [, reason] of ends) refused[reason] = (refused[reason] ?? 0) + 1;
send({ type: 'opened', opened: total - ends.length, refused, openMs });

process.on('message', async (command: SubscriberCommand) => {
  switch (command.type) {
    case 'count': {
      const silent: number[] = [];
      for (let i = 0; i < total; i++) if (heard[i] === 0 && !ended[i]) silent.push(i);
      const afterWarmUp = events.reduce((n, e) => (warmUpIds.has(e[1]) ? n : n + 1), 0);
      return send({ type: 'count', total: events.length, afterWarmUp, silent, ended: ends.map(([i]) => i) });
    }
    case 'mark-warm-up':
      warmUpIds = new Set(command.ids);
      return;
    case 'report': {
      const status = await fs.readFile('/proc/self/status', 'utf8');
      return send({ type: 'report', events, ends, rssMb: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024) });
    }
    case 'close':
      closing = true;
      await Promise.all(closers.map((close) => close()));
      send({ type: 'closed' });
      process.disconnect();
      // Sockets the server has not closed yet would keep the loop alive for nothing.
      setTimeout(() => process.exit(0), 2000).unref();
  }
});
