import { matches, type ChangedDeployment, type ReceivedEvent, type Transport } from './subscription-plan.js';

/** A mutation of the burst, its time taken right after COMMIT returned. */
export interface Commit {
  readonly tenant: number;
  readonly id: string;
  readonly change: ChangedDeployment;
  /** When the open-loop schedule wanted it sent (ms since the epoch). */
  readonly scheduledAt: number;
  readonly committedAt: number;
}

/** A subscriber as the analysis sees it; `counted` when it was open and had heard its warm-up before the burst. */
export interface SubscriberInfo {
  readonly tenant: number;
  readonly kind: number;
  readonly transport: Transport;
  readonly counted: boolean;
}

export interface LatencyStats {
  readonly count: number;
  /**
   * Below zero when the driver took its commit time late: the time is read
   * once its event loop runs again after COMMIT, which a busy machine delays.
   */
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export interface DeliveryResult {
  /** Sum over the burst's mutations of the counted subscribers of that tenant whose filter matches. */
  readonly expected: number;
  /** Events of the burst that reached a subscriber they were expected at, once. */
  readonly delivered: number;
  readonly missing: number;
  /** The same change delivered to the same subscriber again. */
  readonly duplicates: number;
  /** A change of the subscriber's own tenant that its filter excludes, or one at a subscriber not counted. */
  readonly unexpected: number;
  /** A deployment of another tenant (by the mutation's tenant or the URL's host), warm-up included. */
  readonly foreign: number;
  /** Events matching no mutation of the burst or the warm-up. */
  readonly unknown: number;
  readonly latency: LatencyStats;
  readonly latencyByTransport: Readonly<Record<Transport, LatencyStats>>;
  /** The last delivery of the burst, ms after the last commit. */
  readonly lastDeliveryAfterLastCommitMs: number;
}

export function latencyStats(values: number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return {
    count: sorted.length,
    minMs: round(sorted[0] ?? 0),
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: round(sorted.at(-1) ?? 0),
    meanMs: round(sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1)),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const keyOf = (id: string, status: string) => `${id} ${status}`;

/** Joins what the subscribers received with what was committed. */
export function analyseDeliveries(input: {
  readonly subscribers: readonly SubscriberInfo[];
  readonly hosts: readonly string[];
  readonly commits: readonly Commit[];
  readonly warmUpIds: ReadonlySet<string>;
  readonly events: readonly ReceivedEvent[];
}): DeliveryResult {
  const { subscribers, hosts, commits } = input;
  const countedByTenant = new Map<number, SubscriberInfo[]>();
  for (const s of subscribers) if (s.counted) countedByTenant.set(s.tenant, [...(countedByTenant.get(s.tenant) ?? []), s]);
  let expected = 0;
  const byKey = new Map<string, Commit>();
  for (const commit of commits) {
    byKey.set(keyOf(commit.id, commit.change.status), commit);
    expected += (countedByTenant.get(commit.tenant) ?? []).filter((s) => matches(s.kind, commit.change)).length;
  }
  const seen = new Set<string>();
  const latencies: Record<Transport, number[]> = { ws: [], sse: [] };
  let delivered = 0;
  let duplicates = 0;
  let unexpected = 0;
  let foreign = 0;
  let unknown = 0;
  let lastDelivery = 0;
  for (const [index, id, status, at, host] of input.events) {
    const subscriber = subscribers[index]!;
    const commit = byKey.get(keyOf(id, status));
    if (host !== hosts[subscriber.tenant] || (commit && commit.tenant !== subscriber.tenant)) {
      foreign++;
      continue;
    }
    if (!commit) {
      if (!input.warmUpIds.has(id)) unknown++;
      continue;
    }
    if (!subscriber.counted || !matches(subscriber.kind, commit.change)) {
      unexpected++;
      continue;
    }
    const seenKey = `${index} ${keyOf(id, status)}`;
    if (seen.has(seenKey)) {
      duplicates++;
      continue;
    }
    seen.add(seenKey);
    delivered++;
    latencies[subscriber.transport].push(at - commit.committedAt);
    lastDelivery = Math.max(lastDelivery, at);
  }
  const lastCommit = Math.max(...commits.map((c) => c.committedAt));
  return {
    expected,
    delivered,
    missing: expected - delivered,
    duplicates,
    unexpected,
    foreign,
    unknown,
    latency: latencyStats([...latencies.ws, ...latencies.sse]),
    latencyByTransport: { ws: latencyStats(latencies.ws), sse: latencyStats(latencies.sse) },
    lastDeliveryAfterLastCommitMs: lastDelivery ? round(lastDelivery - lastCommit) : 0,
  };
}
