// BIND 9 named as a catalog consumer of gslbd (`catalog-zones`, `allow-new-zones yes`), with gslbd
// answering from two worker processes: the zones gslbd's catalog lists come and go at named
// without its configuration changing, whichever worker a query or transfer reaches.

import { CATALOG, describeCatalogConsumer } from '../helpers/catalog.ts';
import { requireNamed, startNamedCatalog } from '../helpers/named.ts';

requireNamed();

describeCatalogConsumer({
  name: 'BIND named',
  start: async (dir, primaryPort) => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    return startNamedCatalog(dir, CATALOG, primaryPort);
  },
  gslbdArgs: ['--workers', '2'],
});
