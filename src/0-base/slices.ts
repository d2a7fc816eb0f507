// Long zone work as generators that `yield` now and then: run them straight through (tests, small
// zones), or in slices that give the event loop back so queries are answered during a reload.

/** `yield` marks where the work may pause; `yield true` asks for a pause now, before a long step. */
export type Steps<T> = Generator<boolean | void, T, void>;

export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * How long zone work runs before it lets queries in. A query waits for at most one slice plus
 * whatever garbage collection falls into it; a pause costs some 0.05 ms.
 */
export const SLICE_MS = 5;

/** Lets the event loop run (I/O, timers) before the work goes on. */
export const pause = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `steps`, pausing for the event loop whenever a slice has run `sliceMs` or more, or the steps ask for it. */
export async function runSliced<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (r.value === true || performance.now() - since >= sliceMs) {
      await pause();
      since = performance.now();
    }
  }
}

/** True every 1,024th call with a counter: where a loop may yield. */
export const every = (i: number): boolean => (i & 1023) === 0;

/**
 * True when a Map or Set of `size` entries is full: V8 doubles its hash table on the next insertion,
 * copying every entry in one go (30-50 ms at 2^19 entries on the bench machine). Yielding `true`
 * first gives that copy a slice of its own rather than adding it to a slice's worth of work.
 */
export const tableFull = (size: number): boolean => size >= 1 << 16 && (size & (size - 1)) === 0;
