// Long zone work as generators that `yield` now and then: run them straight through (tests, small
// zones), or in slices that give the event loop back so queries are answered during a reload.

export type Steps<T> = Generator<void, T, void>;

export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs `steps`, pausing for the event loop whenever a slice has run `sliceMs` or more. */
export async function runSliced<T>(steps: Steps<T>, sliceMs = 10): Promise<T> {
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
}

/** True every 1,024th call with a counter: where a loop may yield. */
export const every = (i: number): boolean => (i & 1023) === 0;
