/**
 * The CLI's help texts that are not one command's: the list of commands (`hpckv help`), how keys
 * are written on the command line, the exit statuses, and the version (package.json's).
 */
import { readFile } from 'node:fs/promises';
import type { CliCommand } from './cli-command.js';

/** Said by every command that takes keys. */
export const KEYS_NOTE = `Keys are read in the store's key type (the group file's keyType): bytes and string stores take the
text as UTF-8; integer stores a decimal (int64/uint64 exactly); float stores a decimal, -0 or
Infinity; tuple stores a JSON array, e.g. '["run",42]' (a bytes component: a string or {"base64":"..."}).
A key that starts with "-" goes after "--" (hpckv get --group G -- -5), a flag's value as --gte=-5.
Values are UTF-8 text.`;

export const EXIT_NOTE = 'Exit status: 0 ok; 1 not found, or the operation failed; 2 usage error.';

/** The overview: every command's summary, then how keys are written and the exit statuses. */
export function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'hpckv — a partitioned, ordered key-value store for HPC',
    '',
    'Usage: hpckv COMMAND [options]      hpckv help COMMAND (or hpckv COMMAND --help) for one command',
    '       hpckv --version',
    '',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    KEYS_NOTE,
    EXIT_NOTE,
  ].join('\n');
}

/** package.json's version (dist/bin/ is two folders below the package). */
export async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(manifest.version);
}
