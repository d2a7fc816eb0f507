// A package loaded on its first use instead of at import. What only some threads need (a worker
// thread answering DNS serves no API, no /metrics and talks to no etcd) then costs the others no
// memory: fastify, prom-client and etcd3 with their dependencies hold ~20 MB of heap once loaded.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `id` (a CommonJS package) on the first call, the same module after. */
export function lazy<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
