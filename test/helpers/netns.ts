// A small network of namespaces for partition tests (root, iproute2): a bridge in this namespace
// with an address of its own, and one namespace per host, each with a veth into the bridge and an
// address on the same /24. Traffic between them stays inside what the test made. A host's link to
// another address can be cut (an `unreachable` route in its namespace) and mended.

import { execFileSync } from 'node:child_process';

export interface Lab {
  /** This namespace's address on the bridge (etcd listens there). */
  readonly hostIp: string;
  /** The address of a host the lab was made with. */
  ip(host: string): string;
  /** The command prefix that runs a program in a host's namespace. */
  wrap(host: string): string[];
  /** `from` can no longer reach `to` (connects fail: EHOSTUNREACH), or can again. */
  cut(from: string, to: string): void;
  mend(from: string, to: string): void;
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Why this machine cannot make a lab (not root, no `ip`, namespaces not permitted), or null. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces';
  const probe = `gslbdp${process.pid % 100000}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return null;
  } catch (e) {
    return `network namespaces not permitted here: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Hosts named `hosts` (short names: they go into interface names) on 10.231.77.0/24. */
export function makeLab(hosts: readonly string[]): Lab {
  const tag = String(process.pid % 100000);
  const bridge = `gb${tag}`;
  const ns = (h: string) => `gslbd-${tag}-${h}`;
  const addr = new Map(hosts.map((h, i) => [h, `10.231.77.${i + 11}`]));
  const made: string[] = [];
  const lab: Lab = {
    hostIp: '10.231.77.254',
    ip: (h) => addr.get(h)!,
    wrap: (h) => ['ip', 'netns', 'exec', ns(h)],
    cut: (from, to) => ip('netns', 'exec', ns(from), 'ip', 'route', 'add', 'unreachable', `${addr.get(to)}/32`),
    mend: (from, to) => ip('netns', 'exec', ns(from), 'ip', 'route', 'del', 'unreachable', `${addr.get(to)}/32`),
    destroy() {
      for (const n of made) {
        try {
          ip('netns', 'del', n);
        } catch {
          /* gone */
        }
      }
      try {
        ip('link', 'del', bridge);
      } catch {
        /* gone */
      }
    },
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${lab.hostIp}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    hosts.forEach((h, i) => {
      const outside = `gv${tag}${i}`;
      const inside = `gi${tag}${i}`;
      ip('netns', 'add', ns(h));
      made.push(ns(h));
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', ns(h));
      ip('link', 'set', outside, 'master', bridge);
      ip('link', 'set', outside, 'up');
      ip('netns', 'exec', ns(h), 'ip', 'addr', 'add', `${addr.get(h)}/24`, 'dev', inside);
      ip('netns', 'exec', ns(h), 'ip', 'link', 'set', inside, 'up');
      ip('netns', 'exec', ns(h), 'ip', 'link', 'set', 'lo', 'up');
    });
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}
