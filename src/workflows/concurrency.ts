/**
 * Bounded-concurrency iteration over an async iterable: at most `limit` calls of `fn` run at once and
 * items are pulled from the source only as slots free up, so a large estate is never held in memory.
 * `fn` must not throw for per-item failures it wants reported; a throw aborts the whole run.
 */
export async function forEachConcurrently<T>(
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  let done = false;
  let failure: { error: unknown } | undefined;
  async function next(): Promise<IteratorResult<T>> {
    return await iterator.next();
  }
  async function worker(): Promise<void> {
    while (!done && !failure) {
      const step = await next();
      if (step.done) {
        done = true;
        return;
      }
      try {
        await fn(step.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: limit }, () => worker()));
  if (failure) throw failure.error;
}

/** Maps with bounded concurrency, keeping input order in the output. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  await forEachConcurrently(items.map((item, index) => ({ item, index })), limit, async ({ item, index }) => {
    results[index] = await fn(item, index);
  });
  return results;
}
