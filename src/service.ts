// A running gslbd: zones in service, listeners, reload. The CLI builds one; tests start the CLI.

import { createHandler, type Handler } from './dns/handler.ts';
import { nameToText } from './dns/name.ts';
import { DnsListener, formatListen, type ListenAddress, type ServerOptions } from './dns/server.ts';
import { GslbError } from './errors.ts';
import type { Logger } from './log.ts';
import { loadZones } from './zone/loader.ts';
import { ZoneStore } from './zone/store.ts';

export interface ServiceOptions extends ServerOptions {
  readonly zonesDir: string;
  /** Addresses to serve; `required: false` ones (the defaults) only warn when they cannot be bound. */
  readonly listen: readonly { readonly address: ListenAddress; readonly required: boolean }[];
  readonly log: Logger;
}

export class Service {
  readonly zones = new ZoneStore();
  readonly listeners: DnsListener[] = [];
  readonly handler: Handler;
  #opts: ServiceOptions;

  constructor(opts: ServiceOptions) {
    this.#opts = opts;
    let lastError = '';
    this.handler = createHandler(this.zones, (err) => {
      // Logged once per distinct message so a packet flood cannot flood the log.
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      if (text !== lastError) opts.log.error({ err }, 'query failed: answered SERVFAIL');
      lastError = text;
    });
  }

  /** Loads every zone (a zone with errors is left out and logged) and binds the listeners. */
  async start(): Promise<void> {
    await this.reload();
    const log = this.#opts.log;
    for (const { address, required } of this.#opts.listen) {
      const l = new DnsListener(address, this.handler, this.#opts);
      try {
        await l.start();
      } catch (err) {
        if (required) {
          await this.stop();
          throw err;
        }
        log.warn({ address: formatListen(address), err: (err as Error).message }, 'default listen address skipped');
        continue;
      }
      this.listeners.push(l);
      log.info({ address: formatListen({ host: address.host, port: l.port }), port: l.port }, 'listening');
    }
    if (this.listeners.length === 0) throw new GslbError('ERR_LISTEN', 'no address could be bound');
  }

  /**
   * Reads the zones directory again. A zone that loads replaces its previous version; one that
   * fails keeps its previous version in service; a zone whose file is gone is removed.
   */
  async reload(): Promise<{ loaded: number; failed: number }> {
    const log = this.#opts.log;
    const result = await loadZones(this.#opts.zonesDir);
    for (const w of result.warnings) log.warn({ warning: w.message }, 'zone warning');
    for (const e of result.errors) log.error({ error: e.message }, 'file not loaded');
    for (const f of result.failures) {
      const kept = this.zones.get(f.origin) ? 'previous version kept' : 'not served';
      for (const e of f.errors) log.error({ zone: nameToText(f.origin), error: e.message }, `zone failed to load: ${kept}`);
    }
    const present = new Set([...result.zones.map((z) => z.origin), ...result.failures.map((f) => f.origin)]);
    const gone = this.zones.all().filter((z) => !present.has(z.origin)).map((z) => z.origin);
    this.zones.put(...result.zones);
    if (gone.length) this.zones.remove(...gone);
    for (const z of result.zones) log.info({ zone: nameToText(z.origin), serial: z.serial, names: z.nodes.size }, 'zone loaded');
    for (const o of gone) log.info({ zone: nameToText(o) }, 'zone removed');
    return { loaded: result.zones.length, failed: result.failures.length };
  }

  async stop(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.stop()));
    this.listeners.length = 0;
  }
}
