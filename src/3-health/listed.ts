// Checks that this process does not run but knows by its targets: which checks the targets in
// service have (by `checkKey`, as a HealthChecker would run them), with a status each that comes
// from elsewhere. A cluster worker's follow its primary (9-main/cluster/checks.ts); a node left out
// of `probe-from` has idle ones (idle.ts).

import { checksOf, type Checks, type CheckStatus, type WantedCheck } from './checker.ts';
import type { CheckedTarget } from './types.ts';

export abstract class ListedChecks implements Checks {
  readonly #byTarget = new Map<string, string>();
  /** The checks the targets in service have, by key. */
  protected wanted = new Map<string, WantedCheck>();

  /** The status of the listed check `key` (`w` its endpoint and spec). */
  protected abstract status(key: string, w: WantedCheck): CheckStatus;

  sync(targets: Iterable<CheckedTarget>): void {
    this.wanted = checksOf(targets, this.#byTarget);
  }

  statusOf(targetId: string): CheckStatus | undefined {
    const key = this.#byTarget.get(targetId);
    return key === undefined ? undefined : this.byKey(key);
  }

  byKey(key: string): CheckStatus | undefined {
    const w = this.wanted.get(key);
    return w && this.status(key, w);
  }

  all(): CheckStatus[] {
    return [...this.wanted].map(([key, w]) => this.status(key, w));
  }

  stop(): void {}
}
