// The help of one command, cut out of gslbd's usage text, so `gslbd COMMAND --help` and
// `gslbd help COMMAND` say what `gslbd --help` says of it and the two can never disagree.

import { readFileSync } from 'node:fs';

/**
 * The lines of `usage` about `command`: each line starting `  gslbd COMMAND` with the lines
 * indented under it, then the paragraph heading the command's group (e.g. the operator commands'
 * --api and --token), if it has one. Null for a command the text does not name.
 */
export function commandHelp(usage: string, command: string): string | null {
  const out: string[] = [];
  let group: string[] = [];
  let groupNeeded = false;
  let inCommand = false;
  let inHeading = false;
  for (const line of usage.split('\n')) {
    const entry = /^ {2}gslbd (\S+)/.exec(line);
    if (line.trim() === '') {
      inCommand = inHeading = false;
    } else if (!line.startsWith(' ')) {
      // A heading (`usage:`, `Operator commands ...:`, over several lines) names what its entries share.
      if (!inHeading) group = [];
      if (line !== 'usage:') group.push(line);
      inHeading = true;
      inCommand = false;
    } else if (entry) {
      inHeading = false;
      inCommand = entry[1] === command;
      if (inCommand) {
        out.push(line);
        if (group.length) groupNeeded = true;
      }
    } else {
      inHeading = false;
      if (inCommand) out.push(line);
    }
  }
  if (!out.length) return null;
  return `usage:\n${out.join('\n')}\n${groupNeeded ? `\n${group.join('\n')}\n` : ''}`;
}

/** The commands `usage` names (`  gslbd NAME ...` lines), in order, each once. */
export function commandsIn(usage: string): string[] {
  const names = [...usage.matchAll(/^ {2}gslbd (\S+)/gm)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** `gslbd VERSION (node vX.Y.Z)`: package.json's version, read where the code is. */
export function versionText(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `gslbd ${pkg.version} (node ${process.version})\n`;
}
