/**
 * The commands about the whole group: stat (which answers for the servers that are up and
 * names the ones that are down), exec (a procedure next to the data) and shutdown.
 */
import { readFile } from 'node:fs/promises';
import { dbOption, need, positionalArgs, UsageError } from '../cli-args.js';
import { isUnreachable, rejoinHint, withClient } from '../cli-client.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { KEYS_NOTE } from '../cli-usage.js';
import { RANGE_FLAGS, RANGE_SYNOPSIS, rangeOf } from '../range-flags.js';
import { OUTPUT_NOTE, RecordOutput } from '../record-output.js';

export const stat: CliCommand = {
  name: 'stat',
  summary: 'per-server statistics; names the servers that are down',
  usage: `hpckv stat --group FILE [--db NAME]
    Prints every server's statistics as JSON (exact records, key and value bytes, requests), by rank.
    A server that does not answer gets a line on stderr instead, with how to start it again; the
    others still answer, and the exit status is then 1.`,
  flags: ['group', 'db'],
  async run({ flags, positionals }) {
    positionalArgs('stat', positionals, []);
    // No timeout: a rank counting its records after a crash answers when the count is done.
    const { answers, groupFile } = await withClient(flags, async ({ client, groupFile }) =>
      ({ answers: await client.statEach({ ...dbOption(flags), timeoutMs: 0 }), groupFile }));
    process.stdout.write(JSON.stringify(answers.flatMap((answer) => (answer.stat === undefined ? [] : [answer.stat])), null, 2) + '\n');
    const failed = answers.flatMap((answer) => (answer.error === undefined ? [] : [{ rank: answer.rank, error: answer.error }]));
    for (const { rank, error } of failed) {
      process.stderr.write(`hpckv: server rank ${rank} ${isUnreachable(error) ? 'is down' : 'failed'}: ${error.code}: ${error.message}\n`);
    }
    const down = failed.filter(({ error }) => isUnreachable(error)).map(({ rank }) => rank);
    if (down.length > 0) process.stderr.write(`hpckv: ${rejoinHint(groupFile, down)}\n`);
    return failed.length === 0 ? EXIT.ok : EXIT.failed;
  },
};

const KINDS = ['filter', 'map', 'reduce'] as const;

export const exec: CliCommand = {
  name: 'exec',
  summary: 'run a filter, map or reduce next to the data',
  usage: `hpckv exec --group FILE (--filter F.js | --map F.js | --reduce F.js) [--db NAME] ${RANGE_SYNOPSIS} [--args JSON] [--json]
    Runs a procedure next to the data on every server of the range; prints the matches (as scan does)
    or the reduction as JSON. F.js holds the procedure's source (see README, Server-side procedures).
    Every server of the range must be up: a down one is named, with how to start it again.

${OUTPUT_NOTE}

${KEYS_NOTE}`,
  flags: [...RANGE_FLAGS, ...KINDS, 'args', 'json'],
  async run({ flags, positionals }) {
    positionalArgs('exec', positionals, []);
    const kinds = KINDS.filter((kind) => flags[kind] !== undefined);
    if (kinds.length !== 1) throw new UsageError('exec needs exactly one of --filter, --map, --reduce');
    const kind = kinds[0]!;
    const file = need(flags, kind);
    const source = await readFile(file, 'utf8').then((text) => text.trim(), (error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --${kind} file ${file} (${error.code ?? error.message})`);
    });
    let args: unknown = null;
    if (flags.args !== undefined) {
      try { args = JSON.parse(flags.args); } catch { throw new UsageError('--args must be JSON'); }
    }
    await withClient(flags, async ({ client, keys }) => {
      const handle = await client.execute({ kind, source }, { ...dbOption(flags), ...rangeOf(flags, keys), args });
      const result = await handle.wait();
      if (kind === 'reduce') {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      const output = new RecordOutput(keys, flags.json === true);
      for (const [key, value] of result as Array<[Uint8Array, Buffer]>) await output.write(key, value);
    });
    return EXIT.ok;
  },
};

export const shutdown: CliCommand = {
  name: 'shutdown',
  summary: 'ask every server of a group to drain and exit',
  usage: `hpckv shutdown --group FILE
    Asks every server to finish the requests it has, close its stores (saving their summaries) and
    exit. A server that cannot be reached is named, and the exit status is 1.`,
  flags: ['group'],
  async run({ flags, positionals }) {
    positionalArgs('shutdown', positionals, []);
    // Every server is going down: after a failure, asking all of them who is down would name them all.
    const servers = await withClient(flags, async ({ client }) => {
      await client.shutdownServers();
      return client.serverCount;
    }, false);
    process.stdout.write(`asked ${servers} server${servers === 1 ? '' : 's'} to shut down\n`);
    return EXIT.ok;
  },
};
