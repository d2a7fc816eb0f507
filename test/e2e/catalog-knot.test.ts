// Knot DNS 3.2 as a catalog consumer of gslbd (`catalog-role: interpret`, a template whose master
// is gslbd): the zones gslbd's catalog lists come and go at Knot without its configuration changing.

import { describeCatalogConsumer } from '../helpers/catalog.ts';
import { requireKnot, startKnotCatalog } from '../helpers/knot.ts';
import { CATALOG } from '../helpers/catalog.ts';

requireKnot();

describeCatalogConsumer({
  name: 'Knot',
  start: (dir, primaryPort) => startKnotCatalog(dir, CATALOG, primaryPort),
});
