/**
 * Retries `attempt` until `done` holds or 3 s pass, returning the last result.
 * For effects that arrive asynchronously, such as LISTEN/NOTIFY invalidation.
 */
export async function eventually<T>(attempt: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
