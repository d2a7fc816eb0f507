// `npm install` and scripts/test.sh: src/**/*.ts with their types stripped, as build/src/**/*.js,
// which bin/gslbd runs while no source file is newer than build/.stamp (else the sources, as
// before). Stripping is what Node.js does when it runs a .ts file, done once here: a process or
// worker thread that starts from JavaScript never loads the stripper (~17 MB of RSS in the main
// thread, ~7 MB in each worker thread; bench/RESULTS.md, issue 17). Types become spaces, so
// lines and columns in stack traces are those of the sources; relative imports of `.ts` files
// become `.js`. Beside src/ the output links package.json, native/ and node_modules/ of the
// repository, so every path a module resolves from its own URL is the same as from src/.
//
// Run: scripts/node24.sh node scripts/build-js.ts [--out DIR]   (default: build/ in the repository)

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const out = path.resolve(outArg > 0 ? process.argv[outArg + 1]! : path.join(root, 'build'));
const tmp = `${out}.tmp-${process.pid}`;

// Relative module specifiers ending in .ts, in import/export declarations and import().
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+?)\.ts\2/g;

rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
// First: a source saved while this runs is newer than the stamp, so bin/gslbd runs the sources.
writeFileSync(path.join(tmp, '.stamp'), `${new Date().toISOString()}\n`);
let files = 0;
for (const rel of readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
  if (!rel.endsWith('.ts')) continue;
  const code = readFileSync(path.join(root, 'src', rel), 'utf8');
  const js = stripTypeScriptTypes(code, { mode: 'strip' }).replace(SPECIFIER, '$1$2$3.js$2');
  const to = path.join(tmp, 'src', rel.replace(/\.ts$/, '.js'));
  mkdirSync(path.dirname(to), { recursive: true });
  writeFileSync(to, js);
  files++;
}
for (const link of ['package.json', 'native', 'node_modules'])
  symlinkSync(path.relative(tmp, path.join(root, link)), path.join(tmp, link));
// Swapped in whole: a gslbd starting meanwhile runs either the old build or the new one.
const old = `${out}.old-${process.pid}`;
try {
  renameSync(out, old);
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
process.stderr.write(`gslbd: ${files} modules built into ${path.relative(process.cwd(), out) || '.'}\n`);
