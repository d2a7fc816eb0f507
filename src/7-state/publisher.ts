// The visible half of "durable before visible": the zones in service are the zones of their files
// with the committed run-time changes laid over them. The store's onChange calls `change` once a
// changeset is durable, before it is acknowledged.

import { keyFromText, nameToText, type NameKey } from '../0-base/name.ts';
import { Type } from '../0-base/constants.ts';
import { serialNewer, soaSerial } from '../0-base/serial.ts';
import { applyEdits } from '../2-zone/overlay.ts';
import type { ZoneStore } from '../2-zone/store.ts';
import { rrsetEditKey, type RRsetEdit, type RRsetEdits } from '../2-zone/types.ts';
import { applyPoolEdits } from '../4-gslb/edits.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { Changeset, StateStore } from './types.ts';

/**
 * The journal's RRsets to lay over a zone file: all of them, but the apex SOA only while its serial
 * is not older than the file's (RFC 1982). A file edited, its serial raised and reloaded after a
 * run-time change must be served under its own serial, not the journal's last bump; run-time
 * changes then bump from the file's serial.
 */
function overFile(file: PooledZone, edits: RRsetEdits | undefined): RRsetEdits | undefined {
  for (const [key, e] of edits ?? []) {
    if (e.type !== Type.SOA || keyFromText(e.name) !== file.origin || e.rdata.length === 0) continue;
    if (!serialNewer(file.serial, soaSerial(Buffer.from(e.rdata[0]!, 'hex')))) return edits;
    const rest = new Map(edits);
    rest.delete(key);
    return rest;
  }
  return edits;
}

export interface PublisherOptions {
  /** The zones in service: what queries, the API and UPDATE read. */
  readonly zones: ZoneStore<PooledZone>;
  /** The committed run-time changes (RRsets over the files, pool targets). */
  readonly state: StateStore;
  /** The pools in service changed (a zone published, a target added or removed): probes follow. */
  readonly onPoolsChanged: () => void;
}

/** Puts zones in service: from their files on (re)load, and each committed changeset's own edits. */
export class ZonePublisher {
  /** Zones as their files have them; what is served has the journal's changes laid over. */
  readonly #files = new Map<NameKey, PooledZone>();
  readonly #o: PublisherOptions;

  constructor(o: PublisherOptions) {
    this.#o = o;
  }

  /**
   * The zones read from their files, `loaded`, go into service with the run-time changes laid over
   * them; zones not in `present` (neither loaded nor failed: their file is gone) are removed.
   * Returns the origins removed.
   */
  files(loaded: readonly PooledZone[], present: ReadonlySet<NameKey>): NameKey[] {
    const gone = [...this.#files.keys()].filter((o) => !present.has(o));
    for (const z of loaded) this.#files.set(z.origin, z);
    for (const o of gone) this.#files.delete(o);
    if (gone.length) this.#o.zones.remove(...gone);
    this.#lay(loaded);
    return gone;
  }

  /** Every zone in service laid again from its file and the state (the state was replaced whole). */
  republish(): void {
    this.#lay([...this.#files.values()]);
  }

  /** Puts `files` in service, each with the state's run-time changes laid over it. */
  #lay(files: readonly PooledZone[]): void {
    const out = files.map((z) =>
      applyPoolEdits(applyEdits(z, overFile(z, this.#o.state.rrsets(nameToText(z.origin)))), this.#o.state),
    );
    if (out.length) this.#o.zones.put(...out);
    this.#o.onPoolsChanged();
  }

  /**
   * After a changeset: only its own changes go onto the zones in service (an update costs in
   * proportion to itself, not to every change made before it), and only the pools it names are
   * rebuilt (the others keep their rotation state).
   */
  change(cs: Changeset): void {
    const rrsets = new Map<NameKey, Map<string, RRsetEdit>>();
    const pools = new Map<NameKey, Set<NameKey>>();
    for (const c of cs.changes) {
      if (c.kind === 'rrset') {
        const origin = keyFromText(c.zone);
        let m = rrsets.get(origin);
        if (!m) rrsets.set(origin, (m = new Map()));
        m.set(rrsetEditKey(c.name, c.type), c);
      } else if (c.kind === 'target') {
        const pool = keyFromText(c.pool);
        const z = this.#o.zones.find(pool);
        if (!z) continue;
        let s = pools.get(z.origin);
        if (!s) pools.set(z.origin, (s = new Set()));
        s.add(pool);
      }
    }
    const out: PooledZone[] = [];
    for (const origin of new Set([...rrsets.keys(), ...pools.keys()])) {
      let zone = this.#o.zones.get(origin);
      const file = this.#files.get(origin);
      if (!zone || !file) continue;
      zone = applyEdits(zone, rrsets.get(origin));
      const touched = pools.get(origin);
      if (touched) zone = applyPoolEdits(zone, this.#o.state, file, touched);
      out.push(zone);
    }
    if (out.length) this.#o.zones.put(...out);
    if (pools.size) this.#o.onPoolsChanged();
  }
}
