// Knot DNS 3.2 as a catalog consumer of gslbd (`catalog-role: interpret`, a template whose master
// is gslbd): the zones gslbd's catalog lists come and go at Knot without its configuration changing,
// and each change of the catalog reaches Knot by NOTIFY and IXFR.

import { CATALOG, describeCatalogConsumer } from '../helpers/catalog.ts';
import { requireKnot, startKnotCatalog } from '../helpers/knot.ts';

requireKnot();

describeCatalogConsumer({
  name: 'Knot',
  start: (dir, primaryPort) => startKnotCatalog(dir, CATALOG, primaryPort),
  catalogTransfers: {
    ixfr: /\[catalog\.gslb\.invalid\.\] IXFR, incoming, remote \S+, finished/,
    axfr: /\[catalog\.gslb\.invalid\.\] AXFR, incoming, remote \S+, finished/,
  },
});
