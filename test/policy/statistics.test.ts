import { describe, it, expect } from 'vitest';
import { CHI2_CRITICAL_P001, chiSquare, chiSquareSurvivalEvenDf } from './helpers.ts';

describe('test statistics', () => {
  it('has chi-square critical values whose upper tail is 0.001 (closed form, even df)', () => {
    for (const df of [2, 4, 6, 8, 10]) {
      expect(chiSquareSurvivalEvenDf(CHI2_CRITICAL_P001[df]!, df)).toBeCloseTo(0.001, 5);
    }
  });

  it('has critical values that grow with the degrees of freedom', () => {
    const values = Object.entries(CHI2_CRITICAL_P001)
      .sort(([a], [b]) => +a - +b)
      .map(([, v]) => v);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('computes Pearson’s statistic against proportions', () => {
    expect(chiSquare([10, 20, 30], [1, 2, 3])).toBe(0);
    expect(chiSquare([60, 40], [1, 1])).toBe(4); // (10² + 10²) / 50
  });
});
