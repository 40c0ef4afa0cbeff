#!/usr/bin/env node
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isHpckvError } from '../core/errors.js';
import { Client } from '../client/client.js';
import { launchLocalGroup } from '../server/launcher.js';
import { serve } from '../server/serve.js';
import { rejoin } from '../server/rejoin.js';
import { writeNewAuthSecretFile } from '../server/auth-secret.js';
import type { Limits } from '../core/limits.js';
import { DEFAULT_PARTITION, type PartitionSpec } from '../core/group-file.js';

const USAGE = `hpckv — a partitioned, ordered key-value store for HPC

Usage:
  hpckv launch --servers N --dir DIR [--transport unix|tcp] [--databases a,b] [--virtual-nodes V] [--seed S]
               [--partition '{"scheme":"range","boundaries":[...],"epoch":0}' | '{"scheme":"slices",...}']
               [--key-type bytes|string|int32|uint32|int64|uint64|float32|float64|tuple(...)]
               [--auth | --auth-secret-file F]
      Start N local server processes, write DIR/group.json, stay in the foreground; Ctrl-C stops all.
      --auth makes a random secret in DIR/auth.secret; clients must prove it (the group file carries it).
  hpckv serve --group-dir DIR --data DIR [--transport unix|tcp] [--host H] [--root-address tcp://H:P]
              [--databases a,b] [--limits JSON] [--auth-secret-file F]
      Run one server rank (rank/size from hpckv launch, mpirun or srun). Ranks meet through files in
      the group directory, or at rank 0's --root-address when they span hosts.
  hpckv serve --rejoin GROUP_FILE --rank R --data DIR
      Start rank R of an existing group again (after a crash) at its address in the group file, on
      its old stores; clients reconnect on their next call.
  hpckv put  --group FILE [--db NAME] KEY VALUE
  hpckv get  --group FILE [--db NAME] KEY
  hpckv del  --group FILE [--db NAME] KEY
  hpckv stat --group FILE [--db NAME]
  hpckv exec --group FILE (--filter F.js | --map F.js | --reduce F.js) [--db NAME] [--gte K] [--lt K] [--args JSON]
      Run a procedure next to the data on every server of the range; prints the matches (key TAB value,
      UTF-8) or the reduction as JSON. F.js holds the procedure's source (see README, Procedures).
  hpckv demo [--servers N] [--workers N] [--seconds S]
      The main job (npm start): a ParSplice molecular dynamics campaign on an embedded group, with a
      progress bar, a summary checked back from the store, and server-side queries over the states.
  hpckv bench [--quick] [--servers N] [--transport unix|tcp] [--rounds N] [--value-sizes 64,4096] [--records N]
              [--only ROW,...] [--out DIR] [--network 1gbit|10gbit|<N>mbit]
      The benchmark suite (npm run bench): every row next to its anchor (raw classic-level, Redis);
      bulk and single rows are the median (min-max) of N interleaved rounds (default 3). A JSON,
      Markdown and HTML/SVG report in bench/results/. --network (root) adds rows with the client
      across a tbf-shaped veth link from the servers. A development command: it runs in a checkout
      of hpckv after npm ci (the installed package has no benchmarks).
  hpckv mixed [--servers N] [--ops N]
      A mixed put/get/del/batch/write-once workload checked against a model, then per-server stats.
Keys and values on the command line are UTF-8 strings.`;

const options = {
  servers: { type: 'string' },
  dir: { type: 'string' },
  'group-dir': { type: 'string' },
  rejoin: { type: 'string' },
  rank: { type: 'string' },
  data: { type: 'string' },
  transport: { type: 'string' },
  host: { type: 'string' },
  'root-address': { type: 'string' },
  service: { type: 'string' },
  databases: { type: 'string' },
  'virtual-nodes': { type: 'string' },
  partition: { type: 'string' },
  'key-type': { type: 'string' },
  seed: { type: 'string' },
  limits: { type: 'string' },
  auth: { type: 'boolean' },
  'auth-secret-file': { type: 'string' },
  group: { type: 'string' },
  db: { type: 'string' },
  ops: { type: 'string' },
  workers: { type: 'string' },
  seconds: { type: 'string' },
  filter: { type: 'string' },
  map: { type: 'string' },
  reduce: { type: 'string' },
  gte: { type: 'string' },
  lt: { type: 'string' },
  args: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

function need(flags: Flags, name: keyof Flags): string {
  const value = flags[name];
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} is required`);
  return value;
}

class UsageError extends Error {}

/** A command whose code is not in this installation; reported in one line, without a stack. */
class CommandUnavailableError extends Error {}

/**
 * Imports the code of the bench, demo or mixed command when it runs. The package ships examples/
 * (demo, mixed) but not bench/: the benchmarks need devDependencies (ioredis, benchmark), so
 * `hpckv bench` is a development command, run from a checkout after `npm ci`.
 */
async function importCommand<T>(command: 'bench' | 'demo' | 'mixed', load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const why = (error as Error).message.split('\n')[0];
    throw new CommandUnavailableError(command === 'bench'
      ? `bench is a development command: run it in a checkout of hpckv after npm ci (npm run bench); this installation has no benchmarks (${why})`
      : `${command} cannot run: this installation lacks part of hpckv (${why})`);
  }
}

function integerFlag(flags: Flags, name: keyof Flags, fallback: number): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer`);
  return value;
}

function transportFlag(flags: Flags): 'unix' | 'tcp' {
  const transport = flags.transport ?? 'unix';
  if (transport !== 'unix' && transport !== 'tcp') throw new UsageError('--transport must be unix or tcp');
  return transport;
}

/** --partition JSON (any scheme, checked when the group file is formed and read) or the hash ring's flags. */
function partitionFlags(flags: Flags): PartitionSpec | undefined {
  if (flags.partition !== undefined) {
    try {
      return JSON.parse(flags.partition) as PartitionSpec;
    } catch {
      throw new UsageError('--partition must be a JSON partition spec');
    }
  }
  if (flags['virtual-nodes'] === undefined && flags.seed === undefined) return undefined;
  return { scheme: 'hash', virtualNodes: integerFlag(flags, 'virtual-nodes', DEFAULT_PARTITION.virtualNodes), seed: integerFlag(flags, 'seed', DEFAULT_PARTITION.seed) };
}

/** --auth-secret-file F as given, or with --auth a fresh secret written to DIR/auth.secret. */
async function launchSecretFlag(flags: Flags): Promise<string | undefined> {
  if (flags.auth === true && flags['auth-secret-file'] !== undefined) throw new UsageError('give --auth or --auth-secret-file, not both');
  if (flags.auth !== true) return flags['auth-secret-file'];
  const dir = need(flags, 'dir');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'auth.secret');
  await writeNewAuthSecretFile(path);
  return path;
}

function limitsFlag(flags: Flags): Partial<Limits> | undefined {
  if (flags.limits === undefined) return undefined;
  try {
    return JSON.parse(flags.limits) as Partial<Limits>;
  } catch {
    throw new UsageError('--limits must be a JSON object');
  }
}

async function withClient<T>(flags: Flags, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await Client.open(need(flags, 'group'));
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

async function main(argv: string[]): Promise<number> {
  // The bench suite has flags of its own (bench/suite/suite-main.ts). It, the demo and the
  // mixed workload are imported when run: loading them took about 200 ms of every server's start.
  if (argv[0] === 'bench') {
    await (await importCommand('bench', () => import('../bench/suite/suite-main.js'))).suiteMain(argv.slice(1));
    return 0;
  }
  const { values: flags, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (flags.help || command === undefined) {
    process.stdout.write(USAGE + '\n');
    return command === undefined && !flags.help ? 2 : 0;
  }
  const db = flags.db === undefined ? {} : { db: flags.db };
  switch (command) {
    case 'launch': {
      const partition = partitionFlags(flags);
      const limits = limitsFlag(flags);
      const authSecretFile = await launchSecretFlag(flags);
      const group = await launchLocalGroup({
        servers: integerFlag(flags, 'servers', 4), dir: need(flags, 'dir'), transport: transportFlag(flags), output: 'inherit',
        ...(flags['key-type'] === undefined ? {} : { keyType: flags['key-type'] }),
        ...(flags.databases === undefined ? {} : { databases: flags.databases.split(',') }),
        ...(partition === undefined ? {} : { partition }),
        ...(limits === undefined ? {} : { limits }),
        ...(authSecretFile === undefined ? {} : { authSecretFile }),
      });
      process.stdout.write(`hpckv group of ${group.group.servers.length} servers is up; group file: ${group.groupFile}\n` +
        'Press Ctrl-C to stop.\n');
      const stop = (): void => { void group.stop(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await group.exited;
      process.stdout.write('all servers stopped\n');
      return 0;
    }
    case 'serve': {
      if (flags.rejoin !== undefined) {
        // One rank of an existing group, again: everything but the rank and data comes from the group file.
        await rejoin({ groupFile: flags.rejoin, rank: integerFlag(flags, 'rank', -1), dataDir: need(flags, 'data') });
        return 0;
      }
      const partition = partitionFlags(flags);
      const limits = limitsFlag(flags);
      await serve({
        groupDir: need(flags, 'group-dir'), dataDir: need(flags, 'data'), transport: transportFlag(flags),
        ...(flags.host === undefined ? {} : { host: flags.host }),
        ...(flags['root-address'] === undefined ? {} : { rootAddress: flags['root-address'] }),
        ...(flags['key-type'] === undefined ? {} : { keyType: flags['key-type'] }),
        ...(flags.service === undefined ? {} : { service: flags.service }),
        ...(flags.databases === undefined ? {} : { databases: flags.databases.split(',') }),
        ...(partition === undefined ? {} : { partition }),
        ...(limits === undefined ? {} : { limits }),
        ...(flags['auth-secret-file'] === undefined ? {} : { authSecretFile: flags['auth-secret-file'] }),
      });
      return 0;
    }
    case 'put': {
      const [key, value] = rest;
      if (key === undefined || value === undefined) throw new UsageError('put needs KEY VALUE');
      await withClient(flags, (client) => client.put(key, value, db));
      return 0;
    }
    case 'get': {
      const [key] = rest;
      if (key === undefined) throw new UsageError('get needs KEY');
      const value = await withClient(flags, (client) => client.get(key, db));
      if (value === undefined) {
        process.stderr.write(`not found: ${key}\n`);
        return 1;
      }
      process.stdout.write(value.toString('utf8') + '\n');
      return 0;
    }
    case 'del': {
      const [key] = rest;
      if (key === undefined) throw new UsageError('del needs KEY');
      await withClient(flags, (client) => client.del(key, db));
      return 0;
    }
    case 'stat': {
      // No timeout: a rank counting its records after a crash answers when the count is done.
      const stats = await withClient(flags, (client) => client.stat({ ...db, timeoutMs: 0 }));
      process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
      return 0;
    }
    case 'exec': {
      const kinds = (['filter', 'map', 'reduce'] as const).filter((kind) => flags[kind] !== undefined);
      if (kinds.length !== 1) throw new UsageError('exec needs exactly one of --filter, --map, --reduce');
      const kind = kinds[0]!;
      const source = (await readFile(need(flags, kind), 'utf8')).trim();
      let args: unknown = null;
      if (flags.args !== undefined) {
        try { args = JSON.parse(flags.args); } catch { throw new UsageError('--args must be JSON'); }
      }
      const result = await withClient(flags, async (client) => (await client.execute({ kind, source }, {
        ...db, args, ...(flags.gte === undefined ? {} : { gte: flags.gte }), ...(flags.lt === undefined ? {} : { lt: flags.lt }),
      })).wait());
      if (kind === 'reduce') process.stdout.write(JSON.stringify(result) + '\n');
      else {
        for (const [key, value] of result as Array<[unknown, Buffer]>) {
          const text = key instanceof Uint8Array ? Buffer.from(key).toString('utf8') : String(key);
          process.stdout.write(`${text}\t${value.toString('utf8')}\n`);
        }
      }
      return 0;
    }
    case 'demo':
      await (await importCommand('demo', () => import('../examples/parsplice/demo.js'))).runDemo({ servers: integerFlag(flags, 'servers', 4), workers: integerFlag(flags, 'workers', 3), seconds: integerFlag(flags, 'seconds', 25) });
      return 0;
    case 'mixed':
      await (await importCommand('mixed', () => import('../examples/mixed-workload.js'))).runMixedWorkload({ servers: integerFlag(flags, 'servers', 4), operations: integerFlag(flags, 'ops', 20_000) });
      return 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`hpckv: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(isHpckvError(error) ? `hpckv: ${error.code}: ${error.message}\n`
        : error instanceof CommandUnavailableError ? `hpckv: ${error.message}\n`
          : `hpckv: ${error instanceof Error ? error.stack : String(error)}\n`);
      // A failed command must not linger on open handles (a half-started server rank, say).
      process.stderr.write('', () => process.exit(1));
    }
  },
);
