// What the subscription benchmark's two processes share: the subscribers'
// filters, which change each one should hear, and the messages between them.

export const DEPLOYMENT_CHANGED = `subscription Changed($filter: DeploymentChangeFilter) {
  deploymentChanged(filter: $filter) { id status environment url }
}`;

export const ENVIRONMENTS = ['production', 'staging', 'preview'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** A deployment as a change leaves it: what a filter is matched against. */
export interface ChangedDeployment {
  /** 0 or 1: which of the tenant's two projects. */
  readonly project: number;
  readonly environment: Environment;
  readonly status: 'PENDING' | 'BUILDING';
}

/**
 * The filters subscribers use, in turn within each tenant: every kind of
 * DeploymentChangeFilter field, alone and combined, so some changes reach a
 * tenant's subscribers and others are filtered out.
 */
export const FILTER_KINDS = [
  { name: 'none', project: undefined, environment: undefined, status: undefined },
  { name: 'environment production', project: undefined, environment: 'production', status: undefined },
  { name: 'environment staging', project: undefined, environment: 'staging', status: undefined },
  { name: 'first project', project: 0, environment: undefined, status: undefined },
  { name: 'status PENDING', project: undefined, environment: undefined, status: 'PENDING' },
  { name: 'status BUILDING', project: undefined, environment: undefined, status: 'BUILDING' },
  { name: 'second project in staging', project: 1, environment: 'staging', status: undefined },
] as const satisfies readonly { name: string; project: number | undefined; environment: Environment | undefined; status: ChangedDeployment['status'] | undefined }[];

export function matches(kind: number, change: ChangedDeployment): boolean {
  const filter = FILTER_KINDS[kind]!;
  return (
    (filter.project === undefined || filter.project === change.project) &&
    (filter.environment === undefined || filter.environment === change.environment) &&
    (filter.status === undefined || filter.status === change.status)
  );
}

/** The subscription's variables for a filter kind, with the tenant's project ids (global ids). */
export function filterVariables(kind: number, projectIds: readonly string[]): Record<string, unknown> {
  const filter = FILTER_KINDS[kind]!;
  if (filter.name === 'none') return {};
  return {
    filter: {
      ...(filter.project !== undefined && { projectId: projectIds[filter.project] }),
      ...(filter.environment !== undefined && { environment: filter.environment }),
      ...(filter.status !== undefined && { status: [filter.status] }),
    },
  };
}

/** Deployment URLs name their tenant, so a subscriber can tell another tenant's deployment on sight. */
export const tenantHost = (slug: string) => `${slug.replaceAll('_', '-')}.bench`;

/** Milliseconds since the epoch with a fraction: comparable across the processes of one machine. */
export const now = () => performance.timeOrigin + performance.now();

export type Transport = 'ws' | 'sse';

/** One subscriber as the subscriber process opens it. */
export interface PlannedSubscriber {
  readonly slug: string;
  readonly token: string;
  readonly transport: Transport;
  readonly variables: Record<string, unknown>;
}

export interface SubscriberPlan {
  /** http://127.0.0.1:<port>: the tenant is named by path, /t/<slug>/graphql. */
  readonly origin: string;
  /** Subscriptions being opened at once. */
  readonly openConcurrency: number;
  readonly subscribers: readonly PlannedSubscriber[];
}

/** One event as a subscriber got it: [subscriber, deployment uuid, status, received at (ms), url host]. */
export type ReceivedEvent = [number, string, string, number, string];

/** How each subscriber's stream ended, when it did before the benchmark closed it. */
export type StreamEnd = [number, string];

/** Parent → subscriber process. */
export type SubscriberCommand =
  | { readonly type: 'count' }
  | { readonly type: 'mark-warm-up'; readonly ids: readonly string[] }
  | { readonly type: 'report' }
  | { readonly type: 'close' };

/** Subscriber process → parent. */
export type SubscriberMessage =
  | { readonly type: 'opened'; readonly opened: number; readonly refused: Readonly<Record<string, number>>; readonly openMs: number }
  | { readonly type: 'count'; readonly total: number; readonly afterWarmUp: number; readonly silent: readonly number[]; readonly ended: readonly number[] }
  | { readonly type: 'report'; readonly events: readonly ReceivedEvent[]; readonly ends: readonly StreamEnd[]; readonly rssMb: number }
  | { readonly type: 'closed' };
