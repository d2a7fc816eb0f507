// Something a test file starts before its tests and stops after them (a server, a client), used
// as if it were there all along: `const h = forTests(start, stop)` at the top of the file, then
// `h.whatever` inside the tests. Hooks run in the order they are registered, so a fixture may
// start from another made before it.

import { afterAll, beforeAll } from 'vitest';

export function forTests<T extends object>(start: () => Promise<T>, stop: (it: T) => unknown): T {
  let it: T | undefined;
  beforeAll(async () => {
    it = await start();
  }, 30_000);
  afterAll(async () => {
    if (it) await stop(it);
  });
  return new Proxy({} as T, {
    get(_, key) {
      if (!it) throw new Error('fixture used before it started (use it inside a test or hook)');
      const value: unknown = Reflect.get(it, key, it);
      return typeof value === 'function' ? value.bind(it) : value;
    },
  });
}
