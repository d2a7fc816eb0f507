// Files replaced so that a crash at any moment leaves either the old or the new one, whole: the
// journal's snapshot and `gslbd journal recover` both write this way.

import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** fsync of a file or a directory (a directory's makes the names in it, a rename say, durable). */
export async function syncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `tmp`, fsyncs it, renames it over `file` and fsyncs the directory. */
export async function replaceFile(file: string, data: string | Uint8Array, tmp: string): Promise<void> {
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncPath(path.dirname(file));
}
