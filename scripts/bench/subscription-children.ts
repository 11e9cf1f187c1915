import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { rssMb } from './list-page-benchmark.js';
import { now, type SubscriberCommand, type SubscriberMessage } from './subscription-plan.js';

// The subscription benchmark's side of its two child processes: the server and the subscribers.

export interface MemorySample {
  readonly rssMb: number;
  /** V8's heap after a full collection. */
  readonly heapUsedMb: number;
  readonly externalMb: number;
}

/** Sends `command` (or nothing) and resolves with the child's next message of `type`. */
export function reply<T extends SubscriberMessage['type']>(child: ChildProcess, command: SubscriberCommand | undefined, type: T): Promise<Extract<SubscriberMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`the subscriber process exited with ${code} while the benchmark waited for "${type}"`));
    const listener = (message: SubscriberMessage) => {
      if (message.type !== type) return;
      child.off('message', listener).off('exit', exited);
      resolve(message as Extract<SubscriberMessage, { type: T }>);
    };
    child.on('message', listener).once('exit', exited);
    if (command) child.send(command);
  });
}

/** Waits until no event has arrived for 2 s (at most 60 s): the step's loads are done, and the next step's do not pile onto them. */
export async function settle(count: () => Promise<Extract<SubscriberMessage, { type: 'count' }>>) {
  let state = await count();
  const started = now();
  let quietSince = now();
  while (now() - quietSince < 2_000 && now() - started < 60_000) {
    await sleep(250);
    const next = await count();
    if (next.total !== state.total) quietSince = now();
    state = next;
  }
  return state;
}

export async function memory(server: ChildProcess): Promise<MemorySample> {
  const usage = await new Promise<NodeJS.MemoryUsage>((resolve) => {
    const listener = (message: { type?: string } & NodeJS.MemoryUsage) => {
      if (message.type !== 'memory') return;
      server.off('message', listener);
      resolve(message);
    };
    server.on('message', listener);
    server.send({ type: 'memory' });
  });
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return { rssMb: await rssMb(server.pid!), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external) };
}

export async function openFilesLimit(): Promise<string> {
  const limits = await fs.readFile('/proc/self/limits', 'utf8');
  const [soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits)?.slice(1) ?? ['?', '?'];
  return `${soft} soft, ${hard} hard`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
