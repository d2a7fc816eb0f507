// The messages between the primary and its worker threads (worker_threads' postMessage: structured
// clone, so Maps, Infinity and byte arrays arrive as they were sent, and SharedArrayBuffers are
// shared, not copied). One channel per worker; messages arrive in the order they were sent.

import type { Transport } from '../../6-serve/handler.ts';
import type { ErrorCode } from '../../0-base/errors.ts';
import type { CheckStatus } from '../../3-health/checker.ts';
import type { QueryCounts } from '../../6-serve/counters.ts';
import type { ServiceOptions } from '../service.ts';
import type { StateSnapshot } from '../../7-state/state.ts';
import type { Changeset } from '../../7-state/types.ts';
import type { TsigKeyConfig } from '../../1-codec/tsig.ts';
import type { CookieOptions } from '../../1-codec/cookie.ts';
import type { ZoneOptions } from '../../7-config/zones-options.ts';
import type { CatalogContent } from '../catalog.ts';
import type { StoredKey } from '../../7-state/dnssec-keys.ts';
import type { SharedGeo } from '../../3-geo/index.ts';

/**
 * What a worker's answers need of a check, and no more: its spec, address and targets the worker
 * knows from its own zones, and its probe results are the primary's business (status page, API).
 */
export type CheckUpdate = Pick<
  CheckStatus,
  'key' | 'state' | 'since' | 'lastAt' | 'nextAt' | 'remaining' | 'heldUntil'
>;

export function checkUpdate(c: CheckStatus): CheckUpdate {
  return {
    key: c.key,
    state: c.state,
    since: c.since,
    lastAt: c.lastAt,
    nextAt: c.nextAt,
    remaining: c.remaining,
    heldUntil: c.heldUntil,
  };
}

/**
 * The service options a worker starts with: the primary's, less what only the primary has (the
 * journal, the API, the logger, the reading of gslbd.yaml) and with every address a fixed port. The
 * TSIG keys go too: a worker verifies and signs the signed queries it answers (UPDATEs it forwards
 * to the primary); a reload's keys follow in a `tsig` message.
 */
export type WorkerOptions = Omit<
  ServiceOptions,
  | 'log'
  | 'dataDir'
  | 'api'
  | 'state'
  | 'checks'
  | 'update'
  | 'followers'
  | 'cluster'
  | 'clock'
  | 'random'
  | 'settings'
  | 'wrapHandler'
>;

export type ToWorker =
  /** The first message, once the worker has booted: start serving. `state` and `checks` are the primary's as of this message. */
  | {
      readonly type: 'start';
      readonly worker: number;
      readonly options: WorkerOptions;
      readonly state: StateSnapshot;
      readonly checks: readonly CheckUpdate[];
    }
  /** Apply it (answered with `applied`): the primary acknowledges its commit once every worker has. */
  | { readonly type: 'changeset'; readonly cs: Changeset }
  /** The primary's state was replaced whole (a cluster snapshot): take it, publish every zone again. */
  | { readonly type: 'restore'; readonly state: StateSnapshot }
  /** Probe results; `all`: every check the primary runs now. */
  | { readonly type: 'checks'; readonly checks: readonly CheckUpdate[]; readonly all: boolean }
  | { readonly type: 'reload'; readonly id: number }
  /** The TSIG keys a reload read (checked by the primary): verify and sign with these from now on. */
  | { readonly type: 'tsig'; readonly keys: readonly TsigKeyConfig[]; readonly maxFudge: number }
  | { readonly type: 'cookies'; readonly cookies: CookieOptions | null }
  /** The signed zones' keys a reload read (a rollover): sign with these from now on. */
  | { readonly type: 'dnssec'; readonly keys: readonly StoredKey[] }
  /** The zones-options a reload read (checked by the primary): transfer zones by these from now on. */
  | { readonly type: 'zones-options'; readonly options: readonly ZoneOptions[] }
  /** The catalog zone changed (answered with `catalog-set` once served): serve this one from now on. */
  | { readonly type: 'catalog'; readonly id: number; readonly content: CatalogContent }
  | { readonly type: 'counters'; readonly id: number }
  /** The geo database the primary opened (a reload's zones need it): answer from it, before the `reload` that follows. */
  | { readonly type: 'geo'; readonly geo: SharedGeo }
  /** The answer to a forwarded UPDATE. */
  | { readonly type: 'updated'; readonly id: number; readonly answer: Uint8Array | null }
  /** Stop gracefully and exit 0. */
  | { readonly type: 'stop' };

export type FromWorker =
  /** Its message handler is in place: the primary sends `start`. */
  | { readonly type: 'booted' }
  /** Listening on every address it was given. */
  | { readonly type: 'ready' }
  /** Could not start (an address that cannot be bound): it exits after this. */
  | { readonly type: 'failed'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'applied'; readonly seq: number }
  /** Zones loaded and failed, as Service.reload counts them; `error` when the reload itself failed. */
  | {
      readonly type: 'reloaded';
      readonly id: number;
      readonly loaded: number;
      readonly failed: number;
      readonly error: string | null;
    }
  | { readonly type: 'counters'; readonly id: number; readonly counts: QueryCounts }
  | { readonly type: 'catalog-set'; readonly id: number }
  /** An RFC 2136 UPDATE it received: only the primary may commit (one journal, one writer). */
  | { readonly type: 'update'; readonly id: number; readonly msg: Uint8Array; readonly via: Transport }
  /** It accepted a NOTIFY for a secondary zone (text): the primary refreshes the zone. */
  | { readonly type: 'notified'; readonly zone: string };
