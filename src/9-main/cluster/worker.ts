// A worker process (`gslbd worker`, forked by 9-main/cluster/primary.ts; not for running by hand). It
// loads the zones itself and answers DNS on the primary's addresses with sockets of its own
// (SO_REUSEPORT); everything else it follows: the state store is the primary's (a snapshot, then
// every changeset), check statuses are the primary's, UPDATEs go to the primary to commit.

import { nameToText, type NameKey } from '../../0-base/name.ts';
import type { UpdateHandler } from '../../6-serve/handler.ts';
import { GslbError } from '../../0-base/errors.ts';
import { createLogger } from '../../0-base/log.ts';
import { Service } from '../service.ts';
import { JournaledStore } from '../../7-state/store.ts';
import { PrimaryChecks } from './checks.ts';
import type { FromWorker, ToWorker } from './messages.ts';

/** How long a forwarded UPDATE may wait for the primary before it is answered SERVFAIL. */
const UPDATE_TIMEOUT_MS = 10_000;

export async function runWorker(): Promise<number> {
  const send = process.send?.bind(process);
  if (!send) throw new GslbError('ERR_CONFIG', 'gslbd worker: started by `gslbd serve --workers N`, not by hand');
  const tell = (m: FromWorker, then?: () => void) => send(m, undefined, undefined, then);
  // Signals are the primary's to act on; it tells its workers. (A Ctrl-C signals the whole
  // process group, and a worker that died of it would only be restarted.)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});

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
  const stop = (code: number) => {
    stopping ??= started.then(() => service?.stop()).finally(() => process.exit(code));
  };
  // The primary is gone (killed): so are its workers.
  process.on('disconnect', () => stop(0));

  process.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'start': {
        const log = createLogger().child({ worker: m.worker });
        state = new JournaledStore(null);
        state.restore(m.state);
        checks = new PrimaryChecks(state.probes());
        checks.update(m.checks, true);
        const notified = (zone: NameKey) => tell({ type: 'notified', zone: nameToText(zone) });
        const s = new Service({ ...m.options, log, dataDir: null, state, checks, update, notified, reusePort: true });
        service = s;
        started = s.start().then(
          () => void tell({ type: 'ready' }),
          (err: unknown) => {
            const code = err instanceof GslbError ? err.code : 'ERR_WORKER';
            tell({ type: 'failed', code, message: (err as Error).message }, () => process.exit(1));
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
  // Runs until told to stop (process.exit above).
  return new Promise<number>(() => {});
}
