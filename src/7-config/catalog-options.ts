// `catalog:` of gslbd.yaml: the catalog zone (RFC 9432) gslbd generates, listing the zones a
// secondary may transfer. Read here; made and served by 9-main (catalog.ts), its transfer ACL and
// NOTIFY list those of `zones-options` under its name, as for any zone. Plain data, so it reaches
// cluster workers as it is.

import { keyFromText, nameToText, NameError, type NameKey } from '../0-base/name.ts';
import { MapReader, type YamlSource } from '../0-base/yaml-reader.ts';
import type { ZoneOptions } from './zones-options.ts';

export interface CatalogOptions {
  /** The catalog's name as text, final dot, lower case (`catalog.gslb.invalid.`). */
  readonly zone: string;
  /** Where `catalog:` is written, for the errors only the zones in service can show. */
  readonly file: string;
  readonly line: number;
}

/** `catalog:` of gslbd.yaml, each error at its line in `src`. */
export function readCatalog(src: YamlSource, top: MapReader): CatalogOptions | undefined {
  const m = MapReader.of(src, top.node('catalog'), 'catalog');
  if (!m) return undefined;
  m.only(['zone']);
  const text = m.has('zone')
    ? m.string('zone', true)
    : m.fail(undefined, 'missing "zone" (the catalog\'s name, e.g. catalog.gslb.invalid.)');
  if (text === undefined) return undefined;
  try {
    const zone = nameToText(keyFromText(text.endsWith('.') ? text : `${text}.`));
    if (zone === '.') return m.fail('zone', 'the root cannot be a catalog');
    return { zone, file: src.file, line: top.line('catalog') };
  } catch (e) {
    if (e instanceof NameError) return m.fail('zone', `not a zone name: ${e.message}`);
    throw e;
  }
}

/**
 * What only the zones in service and `zones-options` can tell, as `file:line: path: reason`: a
 * zone file with the catalog's name (the catalog is generated, never read), and a catalog no
 * secondary may transfer (no `transfer:` under its name in `zones-options`).
 */
export function catalogErrors(
  catalog: CatalogOptions,
  options: readonly ZoneOptions[],
  zoneFiles: ReadonlySet<NameKey>,
  zonesDir: string,
): string[] {
  const at = `${catalog.file}:${catalog.line}: catalog.zone`;
  const errors: string[] = [];
  if (zoneFiles.has(keyFromText(catalog.zone)))
    errors.push(
      `${at}: ${catalog.zone} has a zone file in ${zonesDir}: the catalog is generated (remove the file or name the catalog otherwise)`,
    );
  if (!options.some((o) => o.zone === catalog.zone && o.transfer))
    errors.push(`${at}: no secondary may transfer ${catalog.zone}: give it zones-options.${catalog.zone}.transfer`);
  return errors;
}
