import { describe, expect, it } from 'vitest';
import { continentOf, KNOWN_COUNTRIES } from '../../src/3-geo/continents.ts';

describe('country → continent table', () => {
  it('holds the 249 ISO 3166-1 codes and XK, each on one of the seven continents', () => {
    expect(KNOWN_COUNTRIES.size).toBe(250);
    for (const country of KNOWN_COUNTRIES)
      expect(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']).toContain(continentOf(country));
  });

  it('lists only codes that name a region (ICU knows them), so a typo cannot hide in it', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
    for (const country of KNOWN_COUNTRIES) expect(names.of(country), country).not.toBe(country);
  });

  it('places transcontinental and edge cases as GeoNames and MaxMind do', () => {
    expect(['RU', 'TR', 'CY', 'EG', 'PA', 'GL', 'AQ', 'TL'].map(continentOf)).toEqual([
      'EU',
      'AS',
      'EU',
      'AF',
      'NA',
      'NA',
      'AN',
      'OC',
    ]);
  });

  it('knows nothing of codes that are not countries', () => {
    for (const code of ['', 'EU', 'ZZ', 'UK', 'us']) expect(continentOf(code), code).toBeUndefined();
  });
});
