// The precedence of a target's signals: every caller (answers, the API, explain, the status page)
// gets its state and the signal that decided it from verdict().

import { describe, expect, it } from 'vitest';
import { verdict } from '../../src/7-state/verdict.ts';
import type { TargetState } from '../../src/7-state/types.ts';

const NOW = 10_000;
const live = <T>(value: T) => ({ value, at: 1000, expiresAt: NOW + 1 });
const expired = <T>(value: T) => ({ value, at: 1000, expiresAt: NOW });
const override = (state: 'up' | 'down' | 'drain') => live({ state, reason: 'admin' });
const report = (state: 'up' | 'down') => live({ state, reason: 'monitor' });

describe('verdict: which signal decides a target', () => {
  it('an unexpired override decides alone, over reports, probes and weight', () => {
    const st: TargetState = { report: report('down'), weight: 5 };
    expect(verdict({ ...st, override: override('up') }, 'down', 1, NOW)).toEqual({ state: 'up', because: 'override' });
    expect(verdict({ override: override('down') }, 'up', 1, NOW)).toEqual({ state: 'down', because: 'override' });
    expect(verdict({ override: override('drain') }, 'up', 1, NOW)).toEqual({ state: 'drain', because: 'override' });
  });

  it('an override forcing up a target of weight 0 leaves it drained, still by the override', () => {
    expect(verdict({ override: override('up'), weight: 0 }, undefined, 1, NOW)).toEqual({
      state: 'drain',
      because: 'override',
    });
    expect(verdict({ override: override('up') }, undefined, 0, NOW)).toEqual({ state: 'drain', because: 'override' });
  });

  it('then a monitor report of down, then a probe of down, then a weight of 0', () => {
    expect(verdict({ report: report('down'), weight: 0 }, 'down', 1, NOW)).toEqual({
      state: 'down',
      because: 'monitor',
    });
    expect(verdict({ report: report('up'), weight: 0 }, 'down', 1, NOW)).toEqual({ state: 'down', because: 'probe' });
    expect(verdict({ report: report('up'), weight: 0 }, 'up', 1, NOW)).toEqual({ state: 'drain', because: 'weight' });
    expect(verdict(undefined, undefined, 0, NOW)).toEqual({ state: 'drain', because: 'weight' });
  });

  it('up by its probe, else by its monitor report, else by default', () => {
    expect(verdict({ report: report('up') }, 'up', 1, NOW)).toEqual({ state: 'up', because: 'probe' });
    expect(verdict({ report: report('up') }, undefined, 1, NOW)).toEqual({ state: 'up', because: 'monitor' });
    expect(verdict(undefined, undefined, 1, NOW)).toEqual({ state: 'up', because: 'default' });
  });

  it('ignores overrides and reports that have expired', () => {
    expect(verdict({ override: { ...expired({ state: 'down' as const, reason: '' }) } }, undefined, 1, NOW)).toEqual({
      state: 'up',
      because: 'default',
    });
    expect(verdict({ report: expired({ state: 'down' as const, reason: '' }) }, 'up', 1, NOW)).toEqual({
      state: 'up',
      because: 'probe',
    });
  });

  it('allocates nothing: the same verdict is the same object', () => {
    const st: TargetState = { report: report('down') };
    expect(verdict(st, 'up', 1, NOW)).toBe(verdict({ report: report('down') }, undefined, 2, NOW));
    expect(Object.isFrozen(verdict(undefined, undefined, 1, NOW))).toBe(true);
  });
});
