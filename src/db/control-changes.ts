/**
 * What a cache of control-plane rows needs from the registry's LISTEN channel
 * (the triggers of control migrations 0002 and 0004 notify on it). The tenant
 * registry provides it; the caches beside it (signing keys, plans, responses)
 * depend on this shape, not on the registry, so auth/ and control/plans/ need
 * nothing from control/tenants/.
 */
export interface ControlPlaneChanges {
  /** Whether caching is safe: the LISTEN connection is up and has shown that notifications reach it. */
  readonly synced: boolean;
  /** Moves on at every change; a cache that loaded something while it moved must not keep it. */
  readonly generation: number;
  /** `listener` gets the changed tenant's id, or undefined when everything must be forgotten. */
  onInvalidate(listener: (tenantId: string | undefined) => void): void;
}
