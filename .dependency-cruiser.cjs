// The layers of src/, checked on every `npm test` (scripts/test.sh runs depcruise with this file).
//
// A folder's number is its layer: a file may import files of its own folder and of folders with a
// lower number, never a higher one, and never a sibling folder of the same number, with one
// exception written below. `ls src` therefore reads bottom-up:
//
//   0-base     wire primitives: names, constants, addresses, encodings, listen addresses, errors, log
//   1-codec    parse a query, encode an answer, TSIG, pre-encoded RRsets, the probes' DNS client
//   2-zone     zone files → immutable zones; zone rules; the overlay of run-time edits (no pools)
//   3-geo, 3-health, 3-policy   client location; probes and health state; policies
//   4-gslb     pools: pools files, Pool, attaching pools to zones, loading the zones directory
//   5-answer   resolve (RFC 1034 and pools), explain
//   6-serve    UDP/TCP listeners, the query handler, the answer cache, query counters
//   7-config, 7-state   gslbd.yaml; changesets, the one commit path, journal, zone editor
//   8-api, 8-metrics, 8-update   HTTP API, Prometheus, RFC 2136 UPDATE
//   9-main     composition: service, command line, cluster of workers
//
// Type-only imports count too: a type is as much a dependency as a value for a reader.

const fs = require('node:fs');
const path = require('node:path');

/** Sibling folders of one layer that may import the other's types: policies read client locations. */
const SIBLINGS_ALLOWED = new Set(['3-policy -> 3-geo']);

const folders = fs.readdirSync(path.join(__dirname, 'src'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && /^\d-/.test(d.name)).map((d) => d.name);

function layerRules() {
  const rules = [];
  for (let n = 0; n <= 9; n++) {
    const higher = [...Array(10).keys()].filter((m) => m > n);
    if (!higher.length) continue;
    rules.push({
      name: `layer-${n}-imports-upward`,
      comment: `src/${n}-*/ may import only its own folder and folders with a lower number`,
      severity: 'error',
      from: { path: `^src/${n}-` },
      to: { path: `^src/(${higher.join('|')})-` },
    });
  }
  for (const a of folders) {
    for (const b of folders) {
      if (a === b || a[0] !== b[0] || SIBLINGS_ALLOWED.has(`${a} -> ${b}`)) continue;
      rules.push({
        name: `sibling-${a}-imports-${b}`,
        comment: 'two folders of one layer do not import each other',
        severity: 'error',
        from: { path: `^src/${a}/` },
        to: { path: `^src/${b}/` },
      });
    }
  }
  return rules;
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, between folders or between files',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-outside-layers',
      comment: 'every source file lives in a numbered layer folder',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: {},
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

