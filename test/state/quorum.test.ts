// Health by quorum: the rule (quorum.ts) for every setting, and the votes of three nodes through a
// real etcd (etcd-votes.ts): each node sees every node's vote, the same votes give the same
// decision everywhere, and the votes of a node that stops renewing its lease vanish after the TTL.

import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthState } from '../../src/3-health/types.ts';
import { EtcdVotes } from '../../src/7-state/etcd-votes.ts';
import { QuorumChecks } from '../../src/7-state/quorum-checks.ts';
import { HealthChecker } from '../../src/3-health/checker.ts';
import { IdleChecks } from '../../src/3-health/idle.ts';
import { systemClock } from '../../src/3-health/clock.ts';
import { probers } from '../../src/3-health/probers/index.ts';
import type { CheckSpec, Prober } from '../../src/3-health/types.ts';
import { tcpListener } from '../helpers/listeners.ts';
import { decide, downVotesNeeded } from '../../src/7-state/quorum.ts';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { until } from '../helpers/listeners.ts';
import { FakeClock } from '../health/fake-clock.ts';
import { TargetHealth } from '../../src/7-state/target-health.ts';
import { JournaledStore } from '../../src/7-state/store.ts';
import type { TargetDef } from '../../src/4-gslb/types.ts';

describe('the quorum rule', () => {
  it('needs more than half of the live votes for majority, one for any, every one for all, N for N', () => {
    expect([1, 2, 3, 4, 5].map((n) => downVotesNeeded('majority', n))).toEqual([1, 2, 2, 3, 3]);
    expect([1, 3, 5].map((n) => downVotesNeeded('any', n))).toEqual([1, 1, 1]);
    expect([1, 3, 5].map((n) => downVotesNeeded('all', n))).toEqual([1, 3, 5]);
    expect([1, 3, 5].map((n) => downVotesNeeded(2, n))).toEqual([2, 2, 2]);
  });

  it('decides down only when the down votes reach it, and keeps the last state without votes', () => {
    const v = (...s: HealthState[]) => s;
    expect(decide(v('down', 'up', 'up'), 'majority', 'up')).toBe('up');
    expect(decide(v('down', 'down', 'up'), 'majority', 'up')).toBe('down');
    expect(decide(v('down', 'up'), 'majority', 'up')).toBe('up');
    expect(decide(v('down', 'up', 'up'), 'any', 'up')).toBe('down');
    expect(decide(v('down', 'down', 'up'), 'all', 'up')).toBe('up');
    expect(decide(v('down', 'up', 'up'), 2, 'up')).toBe('up');
    // A target that comes back: up as soon as the down votes fall below the quorum.
    expect(decide(v('up', 'up', 'down'), 'majority', 'down')).toBe('up');
    expect(decide([], 'majority', 'down')).toBe('down');
    expect(decide([], 'majority', 'up')).toBe('up');
  });
});

describe('votes of three nodes through etcd', () => {
  let etcd: EtcdServer;
  const clients: Etcd3[] = [];
  const running: EtcdVotes[] = [];
  beforeAll(async () => {
    etcd = await startEtcd();
  }, 30_000);
  afterAll(async () => {
    for (const v of running) await v.stop();
    for (const c of clients) c.close();
    await etcd?.stop();
  });

  const prefix = `/gslbd-votes-${process.pid}/`;
  async function node(name: string, ttlMs = 2000): Promise<{ votes: EtcdVotes; client: Etcd3; seen: string[] }> {
    const client = new Etcd3({ hosts: etcd.endpoint });
    clients.push(client);
    const seen: string[] = [];
    const votes = new EtcdVotes({ client, prefix, node: name, ttlMs, onChange: (check) => seen.push(check) });
    await votes.start();
    running.push(votes);
    return { votes, client, seen };
  }
  /** The votes a node sees on `check`, as `node=state` sorted by node. */
  const states = (v: EtcdVotes, check: string) =>
    [...v.votes(check)]
      .map(([n, vote]) => `${n}=${vote.state}`)
      .sort()
      .join(' ');

  it('every node sees every vote, and decides the same', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    a.votes.vote('check-1', 'down', 1, 'connect ECONNREFUSED');
    b.votes.vote('check-1', 'up', 1, 'connected');
    c.votes.vote('check-1', 'up', 1, 'connected');
    await until(
      () => [a, b, c].every((n) => states(n.votes, 'check-1') === 'a=down b=up c=up'),
      5000,
      'three votes on every node',
    );
    const decision = (n: { votes: EtcdVotes }) =>
      decide(
        [...n.votes.votes('check-1').values()].map((v) => v.state),
        'majority',
        'up',
      );
    expect([a, b, c].map(decision)).toEqual(['up', 'up', 'up']);
    b.votes.vote('check-1', 'down', 2, 'connect ECONNREFUSED');
    await until(
      () => [a, b, c].every((n) => n.votes.votes('check-1').get('b')?.state === 'down'),
      5000,
      'b down everywhere',
    );
    expect([a, b, c].map(decision)).toEqual(['down', 'down', 'down']);
    // Checks no longer run: the node takes its votes back.
    a.votes.retain(new Set());
    await until(() => [b, c].every((n) => !n.votes.votes('check-1').has('a')), 5000, "a's vote taken back");
  }, 30_000);

  it("bounds a node's TTL by what the other nodes' votes still need: fall probes while steady, the next one in transition", async () => {
    const [x, y] = [await node('tx'), await node('ty')];
    const spec: CheckSpec = {
      type: 'tcp',
      port: 9,
      intervalMs: 5000,
      timeoutMs: 1000,
      rise: 2,
      fall: 3,
      path: '/',
      expect: [200],
      insecure: false,
    };
    // x's own check on a clock that does not move: steady, first probe due at 2.5 s.
    const clock = new FakeClock();
    const local = new HealthChecker({ probers, clock, random: () => 0.5 });
    const quorum = new QuorumChecks(
      local,
      x.votes,
      'majority',
      () => 0,
      () => {},
    );
    const t: TargetDef = { id: 'p./192.0.2.1', address: '192.0.2.1', family: 4, weight: 1, check: spec, line: 1 };
    quorum.sync([t]);
    const key = quorum.own()[0]!.key;
    const health = new TargetHealth(quorum, new JournaledStore(null, () => 0));
    const bound = () => health.status(t, 0).nextChange;
    // No other node has voted: x's own probes alone, its next one (2.5 s) and two more.
    expect(bound()).toBe(2500 + 2 * 4750);
    // y votes up, steady: it needs 3 failures too, the first of them possibly now.
    y.votes.vote(key, 'up', 0, 'connected', 3);
    await until(() => x.votes.votes(key).get('ty')?.remaining === 3, 5000, "y's vote");
    quorum.recompute(key);
    expect(bound()).toBe(2 * 4750);
    // y counted two failures: its next probe may take its vote down.
    y.votes.progress(key, 1);
    await until(() => x.votes.votes(key).get('ty')?.remaining === 1, 5000, "y's progress");
    quorum.recompute(key);
    expect(bound()).toBe(0);
    quorum.stop();
  }, 30_000);

  it("the votes of a node that stops renewing vanish after the TTL, and a stopped node's at once", async () => {
    const [d, e] = [await node('d', 2000), await node('e', 2000)];
    d.votes.vote('check-2', 'down', 1, 'timeout');
    e.votes.vote('check-2', 'up', 1, 'connected');
    await until(() => e.votes.votes('check-2').size === 2, 5000, 'both votes');
    // A crash: the client goes away without revoking; etcd expires the lease after its TTL.
    running.splice(running.indexOf(d.votes), 1);
    d.client.close();
    const t0 = Date.now();
    await until(() => !e.votes.votes('check-2').has('d'), 10_000, "d's vote to expire", 50);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(500);
    // Stopped cleanly: the lease is revoked and the votes go at once.
    await e.votes.stop();
    running.splice(running.indexOf(e.votes), 1);
    const f = await node('f');
    expect(f.votes.votes('check-2').size).toBe(0);
  }, 30_000);

  it('a lease etcd dropped while the node kept running (etcd3 #110) is found, and the votes put again under a new one', async () => {
    const g = await node('g', 4000);
    const h = await node('h', 4000);
    g.votes.vote('check-3', 'down', 1, 'timeout');
    await until(() => h.votes.votes('check-3').get('g')?.state === 'down', 5000, "g's vote");
    // Every lease revoked behind the nodes' backs: their votes go with them.
    const admin = new Etcd3({ hosts: etcd.endpoint });
    clients.push(admin);
    const { leases } = await admin.leaseClient.leaseLeases();
    for (const l of leases) await admin.leaseClient.leaseRevoke({ ID: l.ID });
    await until(() => !h.votes.votes('check-3').has('g'), 5000, "g's vote gone with its lease");
    // g's next renewal (every ttl/4 = 1 s) finds the lease gone and puts its vote again under a new
    // one: well before the 4 s TTL would have run out.
    await until(() => h.votes.votes('check-3').get('g')?.state === 'down', 2500, "g's vote back", 50);
    expect(g.votes.detached).toBe(false);
  }, 30_000);

  it("one node's lost link to a target evicts it nowhere; the target going away evicts it everywhere", async () => {
    const target = await tcpListener('127.0.0.2');
    const spec: CheckSpec = {
      type: 'tcp',
      port: target.port,
      intervalMs: 300,
      timeoutMs: 200,
      rise: 1,
      fall: 1,
      path: '/',
      expect: [200],
      insecure: false,
    };
    // Node z cannot reach the target (its link is cut): its TCP probes fail, the others' go through.
    const cut: Prober = { probe: async () => ({ ok: false, hard: true, reason: 'connect ENETUNREACH', latencyMs: 0 }) };
    const qprefix = `/gslbd-quorum-${process.pid}/`;
    const nodes = await Promise.all(
      ['x', 'y', 'z'].map(async (name) => {
        const client = new Etcd3({ hosts: etcd.endpoint });
        clients.push(client);
        let quorum: QuorumChecks | null = null;
        const votes = new EtcdVotes({
          client,
          prefix: qprefix,
          node: name,
          ttlMs: 2000,
          onChange: (k) => quorum?.recompute(k),
        });
        const local = new HealthChecker({
          probers: name === 'z' ? { ...probers, tcp: cut } : probers,
          clock: systemClock,
          random: Math.random,
          onTransition: (c, t) => votes.vote(c.key, t.to, t.at, t.reason),
          onResult: (c, r) => {
            if (!votes.hasVoted(c.key)) votes.vote(c.key, c.state, c.since, r.reason);
          },
        });
        quorum = new QuorumChecks(local, votes, 'majority', Date.now, () => {});
        await votes.start();
        running.push(votes);
        quorum.sync([{ id: 'pool/127.0.0.2', address: '127.0.0.2', check: spec }]);
        return { name, votes, quorum, local };
      }),
    );
    // Node w is left out by probe-from: it probes nothing and answers by the others' votes.
    const wClient = new Etcd3({ hosts: etcd.endpoint });
    clients.push(wClient);
    let wQuorum: QuorumChecks | null = null;
    const wVotes = new EtcdVotes({
      client: wClient,
      prefix: qprefix,
      node: 'w',
      ttlMs: 2000,
      onChange: (k) => wQuorum?.recompute(k),
    });
    wQuorum = new QuorumChecks(new IdleChecks(systemClock), wVotes, 'majority', Date.now, () => {});
    await wVotes.start();
    running.push(wVotes);
    wQuorum.sync([{ id: 'pool/127.0.0.2', address: '127.0.0.2', check: spec }]);
    try {
      const seen = () => [
        ...nodes.map((n) => n.quorum.statusOf('pool/127.0.0.2')?.state),
        wQuorum.statusOf('pool/127.0.0.2')?.state,
      ];
      const own = () => nodes.map((n) => n.quorum.own()[0]?.state);
      await until(() => nodes.every((n) => n.votes.votes([...n.quorum.own()][0]!.key).size === 3), 5000, 'three votes');
      await until(() => own().join() === 'up,up,down', 5000, "z's own verdict: down");
      // z alone says down: 1 of 3 is no majority, so z answers with the target too.
      expect(seen()).toEqual(['up', 'up', 'up', 'up']);
      await target.stop();
      await until(() => seen().join() === 'down,down,down,down', 5000, 'down on every node, w included');
      await target.start();
      await until(() => seen().join() === 'up,up,up,up', 5000, 'up again, z and w included');
      // w never voted: three live votes decide, not four.
      expect(wVotes.votes(nodes[0]!.quorum.own()[0]!.key).size).toBe(3);
      expect(own()).toEqual(['up', 'up', 'down']);
    } finally {
      for (const n of nodes) n.quorum.stop();
      await target.stop();
    }
  }, 30_000);
});
