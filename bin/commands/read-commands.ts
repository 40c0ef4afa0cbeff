/**
 * The ordered reads: scan, count, first, last (of the store or of a range) and next, prev (the
 * keys after or before a key, stored or not). Bounds are keys of the store's type; a prefix is a
 * byte prefix for string and bytes stores, the first components for tuple stores.
 */
import type { Client } from '../../client/client.js';
import { dbOption, positionalArgs, positiveFlag, type Flags } from '../cli-args.js';
import { withClient } from '../cli-client.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { KEYS_NOTE } from '../cli-usage.js';
import { PREFIX_NOTE, RANGE_FLAGS, RANGE_SYNOPSIS, rangeOf } from '../range-flags.js';
import { OUTPUT_NOTE, RecordOutput } from '../record-output.js';
import type { StoreKeys } from '../store-keys.js';

/** The first record of the range in the given order, or undefined when it holds none. */
async function firstOf(client: Client, flags: Flags, keys: StoreKeys, reverse: boolean): Promise<[Uint8Array, Buffer] | undefined> {
  for await (const [key, value] of client.iterate({ ...dbOption(flags), ...rangeOf(flags, keys), reverse, limit: 1 })) {
    return [key as Uint8Array, value!];
  }
  return undefined;
}

export const scan: CliCommand = {
  name: 'scan',
  summary: 'print the records of a key range in key order',
  usage: `hpckv scan --group FILE [--db NAME] ${RANGE_SYNOPSIS} [--limit N] [--reverse] [--json]
    Prints the records of the range (all of them without bounds) in key order, descending with
    --reverse, at most N with --limit.
${PREFIX_NOTE}

${OUTPUT_NOTE}

${KEYS_NOTE}`,
  flags: [...RANGE_FLAGS, 'limit', 'reverse', 'json'],
  async run({ flags, positionals }) {
    positionalArgs('scan', positionals, []);
    const limit = positiveFlag(flags, 'limit');
    await withClient(flags, async ({ client, keys }) => {
      const output = new RecordOutput(keys, flags.json === true);
      const range = rangeOf(flags, keys);
      for await (const [key, value] of client.iterate({ ...dbOption(flags), ...range, reverse: flags.reverse === true, ...(limit === undefined ? {} : { limit }) })) {
        await output.write(key as Uint8Array, value!);
        if (output.closed) break;
      }
    });
    return EXIT.ok;
  },
};

export const count: CliCommand = {
  name: 'count',
  summary: 'print how many keys a range holds',
  usage: `hpckv count --group FILE [--db NAME] ${RANGE_SYNOPSIS}\n    Prints how many keys the range holds (the whole database without bounds).\n${PREFIX_NOTE}\n\n${KEYS_NOTE}`,
  flags: RANGE_FLAGS,
  async run({ flags, positionals }) {
    positionalArgs('count', positionals, []);
    const total = await withClient(flags, ({ client, keys }) => client.count(rangeOf(flags, keys), dbOption(flags)));
    process.stdout.write(`${total}\n`);
    return EXIT.ok;
  },
};

function endCommand(name: 'first' | 'last'): CliCommand {
  const which = name === 'first' ? 'smallest' : 'largest';
  return {
    name,
    summary: `print the ${which} key (of a range) and its value`,
    usage: `hpckv ${name} --group FILE [--db NAME] ${RANGE_SYNOPSIS} [--json]\n    Prints the record of the ${which} key of the range (of the database without bounds);\n    exit status 1 when there is none.\n${PREFIX_NOTE}\n\n${OUTPUT_NOTE}\n\n${KEYS_NOTE}`,
    flags: [...RANGE_FLAGS, 'json'],
    async run({ flags, positionals }) {
      positionalArgs(name, positionals, []);
      return withClient(flags, async ({ client, keys }) => {
        const found = await firstOf(client, flags, keys, name === 'last');
        if (found === undefined) {
          process.stderr.write('not found: no key in the range\n');
          return EXIT.failed;
        }
        await new RecordOutput(keys, flags.json === true).write(...found);
        return EXIT.ok;
      });
    },
  };
}

function stepCommand(name: 'next' | 'prev'): CliCommand {
  const which = name === 'next' ? 'after' : 'before';
  return {
    name,
    summary: `print the key ${which} a key (stored or not) and its value`,
    usage: `hpckv ${name} --group FILE [--db NAME] [--limit N] [--json] KEY\n    Prints the record of the key just ${which} KEY (N records ${name === 'next' ? 'ascending' : 'descending'} with --limit), whether or not\n    KEY is stored; exit status 1 when there is none.\n\n${OUTPUT_NOTE}\n\n${KEYS_NOTE}`,
    flags: ['group', 'db', 'limit', 'json'],
    async run({ flags, positionals }) {
      const [key] = positionalArgs(name, positionals, ['KEY']);
      const limit = positiveFlag(flags, 'limit') ?? 1;
      return withClient(flags, async ({ client, keys }) => {
        const records = await client.getRange(keys.encode(key!), limit, name, dbOption(flags));
        if (records.length === 0) {
          process.stderr.write(`not found: no key ${which} ${key}\n`);
          return EXIT.failed;
        }
        const output = new RecordOutput(keys, flags.json === true);
        for (const [stored, value] of records) await output.write(stored as Uint8Array, value);
        return EXIT.ok;
      });
    },
  };
}

export const first = endCommand('first');
export const last = endCommand('last');
export const next = stepCommand('next');
export const prev = stepCommand('prev');
