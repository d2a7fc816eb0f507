// A worker thread (started by 9-main/cluster/primary.ts with this file as its module). It loads the
// zones itself and answers DNS on the primary's addresses with sockets of its own (SO_REUSEPORT);
// everything else it follows: the state store is the primary's (a snapshot, then every
// changeset), check statuses are the primary's, UPDATEs go to the primary to commit. The geo
// tables are the primary's own memory (SharedArrayBuffer), not a copy.

import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import { nameToText, parseName, type NameKey } from '../../0-base/name.ts';
import type { Handler, UpdateHandler } from '../../6-serve/handler.ts';
import { GslbError } from '../../0-base/errors.ts';
import { createLogger } from '../../0-base/log.ts';
import { Service } from '../service.ts';
import { JournaledStore } from '../../7-state/store.ts';
import { PrimaryChecks } from './checks.ts';
import type { FromWorker, ToWorker } from './messages.ts';

/** How long a forwarded UPDATE may wait for the primary before it is answered SERVFAIL. */
const UPDATE_TIMEOUT_MS = 10_000;

/** Set by tests only: `NAME`, worker N throws (uncaught) on a query for wN.NAME, as a bug would. */
const FAULT = process.env.GSLBD_TEST_WORKER_FAULT;

export function runWorker(): void {
  const port = parentPort;
  if (!port) throw new GslbError('ERR_CONFIG', 'gslbd worker: started by `gslbd serve --workers N`, not by hand');
  const tell = (m: FromWorker) => port.postMessage(m);
  // Signals are the process's, and its main thread (the primary) acts on them and tells its workers.

  const answers = new Map<number, (answer: Buffer | null) => void>();
  let nextId = 1;
  // Only the primary commits: one journal, one writer. The answer comes once every worker has the change.
  const update: UpdateHandler = (msg, via) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        answers.delete(id);
        reject(new Error(`the primary did not answer a forwarded UPDATE within ${UPDATE_TIMEOUT_MS} ms`));
      }, UPDATE_TIMEOUT_MS);
      answers.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      tell({ type: 'update', id, msg, via });
    });

  let service: Service | null = null;
  let checks: PrimaryChecks | null = null;
  let state: JournaledStore | null = null;
  let started: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | null = null;
  // process.exit in a worker thread ends the thread, not the process.
  const stop = (code: number) => {
    stopping ??= started.then(() => service?.stop()).finally(() => process.exit(code));
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'start': {
        const log = createLogger().child({ worker: m.worker, thread: threadId });
        state = new JournaledStore(null);
        state.restore(m.state);
        checks = new PrimaryChecks(state.probes());
        checks.update(m.checks, true);
        const notified = (zone: NameKey) => tell({ type: 'notified', zone: nameToText(zone) });
        const s = new Service({
          ...m.options,
          log,
          dataDir: null,
          state,
          checks,
          update,
          notified,
          reusePort: true,
          ...(FAULT && { wrapHandler: faultOn(`w${m.worker}.${FAULT}`) }),
        });
        service = s;
        started = s.start().then(
          () => void tell({ type: 'ready' }),
          (err: unknown) => {
            const code = err instanceof GslbError ? err.code : 'ERR_WORKER';
            tell({ type: 'failed', code, message: (err as Error).message });
            process.exit(1);
          },
        );
        return;
      }
      case 'changeset':
        // Applied like a commit of its own: Service re-publishes the zones it touches, now.
        state?.apply(m.cs);
        tell({ type: 'applied', seq: m.cs.seq });
        return;
      case 'restore':
        state?.restore(m.state);
        service?.republish();
        return;
      case 'checks':
        checks?.update(m.checks, m.all);
        return;
      case 'reload':
        void started
          .then(() => service!.reload())
          .then(
            (r) => tell({ type: 'reloaded', id: m.id, ...r, error: null }),
            (err: unknown) => tell({ type: 'reloaded', id: m.id, loaded: 0, failed: 0, error: (err as Error).message }),
          );
        return;
      case 'tsig':
        // After the start (which sets the keys it was given), before any reload sent after this.
        void started.then(() => service?.setTsig(m.keys, m.maxFudge));
        return;
      case 'cookies':
        void started.then(() => service?.setCookies(m.cookies));
        return;
      case 'dnssec':
        void started.then(() => service?.setDnssecKeys(m.keys));
        return;
      case 'zones-options':
        void started.then(() => {
          try {
            service?.setZonesOptions(m.options);
          } catch (err) {
            createLogger().error(
              { err: (err as Error).message },
              'zones-options not taken: the transfer settings in service are kept',
            );
          }
        });
        return;
      case 'catalog':
        void started.then(() => {
          service?.setCatalog(m.content);
          tell({ type: 'catalog-set', id: m.id });
        });
        return;
      case 'geo':
        service?.setSharedGeo(m.geo);
        return;
      case 'counters':
        if (service) tell({ type: 'counters', id: m.id, counts: service.counters.counts() });
        return;
      case 'updated': {
        const answer = m.answer && Buffer.from(m.answer.buffer, m.answer.byteOffset, m.answer.byteLength);
        answers.get(m.id)?.(answer);
        answers.delete(m.id);
        return;
      }
      case 'stop':
        stop(0);
        return;
    }
  });
  tell({ type: 'booted' });
}

/** The handler, throwing outside any promise on a query whose question is `name`: a thread that dies. */
function faultOn(name: string): (h: Handler) => Handler {
  const wire = parseName(name, null);
  // A Proxy: the properties Service sets on its handler later (keys, cookies, ...) reach `h`.
  return (h) =>
    new Proxy(h, {
      apply(target, self, args: Parameters<Handler>) {
        if (args[0].indexOf(wire, 12) === 12)
          setImmediate(() => {
            throw new Error(`GSLBD_TEST_WORKER_FAULT: a query for ${name}`);
          });
        return Reflect.apply(target, self, args);
      },
    });
}

if (!isMainThread) runWorker();
