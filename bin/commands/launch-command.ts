/**
 * `hpckv launch`: N local server processes in the foreground. The launcher says what happens to
 * them: a server that exits while the group runs (a crash, kill -9, a shutdown request) is
 * reported at once, with how to start it again; on Ctrl-C it says which ranks it stopped, and
 * that a rank it did not start (one restarted by hand with serve --rejoin) still runs.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client } from '../../client/client.js';
import { resolveLimits } from '../../core/limits.js';
import { writeNewAuthSecretFile } from '../../server/auth-secret.js';
import { launchLocalGroup, type LocalGroup, type RankExit } from '../../server/launcher.js';
import { databasesFlag, limitsFlag, need, positionalArgs, positiveFlag, transportFlag, UsageError, type Flags } from '../cli-args.js';
import { isUnreachable } from '../cli-client.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { PARTITION_NOTE, PARTITION_SYNOPSIS, partitionFlags } from '../partition-flags.js';

/** How long the launcher waits for a rank it did not start to answer, after Ctrl-C. */
const PROBE_TIMEOUT_MS = 5000;

export const launch: CliCommand = {
  name: 'launch',
  summary: 'start N local server processes and stay in the foreground (Ctrl-C stops them)',
  usage: `hpckv launch --servers N --dir DIR [--transport unix|tcp] [--host H] [--databases a,b]
             [--key-type bytes|string|int32|uint32|int64|uint64|float32|float64|tuple(...)]
             ${PARTITION_SYNOPSIS}
             [--limits JSON] [--auth | --auth-secret-file F]
    Starts N local server processes (default 4), writes DIR/group.json and stays in the foreground.
    A server that exits meanwhile is reported, with how to start it again (hpckv serve --rejoin);
    Ctrl-C stops the servers it started. Exit status 1 when the servers ended by themselves and
    one of them failed.
${PARTITION_NOTE}
--limits '{"valueBytesMax": 1048576}': limits other than the defaults (docs/limits.md).
--auth makes a random secret in DIR/auth.secret; clients must prove it (the group file carries it).`,
  flags: ['servers', 'dir', 'transport', 'host', 'service', 'databases', 'key-type', 'partition', 'split-points', 'sample',
    'virtual-nodes', 'seed', 'limits', 'auth', 'auth-secret-file'],
  async run({ flags, positionals }) {
    positionalArgs('launch', positionals, []);
    const servers = positiveFlag(flags, 'servers') ?? 4;
    const dir = resolve(need(flags, 'dir'));
    const keyType = flags['key-type'];
    // Everything is checked before any server starts (and before a secret is written).
    const partition = await partitionFlags(flags, servers, keyType ?? 'bytes');
    const limits = limitsFlag(flags);
    resolveLimits(limits);
    const authSecretFile = await launchSecretFlag(flags, dir);
    const group = await launchLocalGroup({
      servers, dir, transport: transportFlag(flags), output: 'inherit',
      ...(flags.host === undefined ? {} : { host: flags.host }),
      ...(flags.service === undefined ? {} : { service: flags.service }),
      ...(keyType === undefined ? {} : { keyType }),
      ...databasesFlag(flags),
      ...(partition === undefined ? {} : { partition }),
      ...(limits === undefined ? {} : { limits }),
      ...(authSecretFile === undefined ? {} : { authSecretFile }),
    });
    return supervise(group, join(dir, 'data'));
  },
};

/** --auth-secret-file F as given, or with --auth a fresh secret written to DIR/auth.secret. */
async function launchSecretFlag(flags: Flags, dir: string): Promise<string | undefined> {
  if (flags.auth === true && flags['auth-secret-file'] !== undefined) throw new UsageError('give --auth or --auth-secret-file, not both');
  if (flags.auth !== true) return flags['auth-secret-file'];
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'auth.secret');
  await writeNewAuthSecretFile(path);
  return path;
}

/** Says the group is up, reports every server that ends by itself, stops them all on SIGINT/SIGTERM, and says what it stopped. */
async function supervise(group: LocalGroup, dataDir: string): Promise<number> {
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    void group.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Only now: whoever reads this line may press Ctrl-C at once.
  process.stdout.write(`hpckv group of ${group.processes.length} servers is up; group file: ${group.groupFile}\nPress Ctrl-C to stop.\n`);
  for (const exit of group.rankExits) {
    void exit.then((ended) => { if (!ended.stopped) process.stderr.write(`hpckv: ${describeExit(ended, group.groupFile, dataDir)}\n`); });
  }
  const exits = await Promise.all(group.rankExits);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (stopping) return sayWhatStopped(group, exits);
  process.stdout.write('all servers have exited\n');
  return exits.every((exit) => exit.code === 0) ? EXIT.ok : EXIT.failed;
}

/** After Ctrl-C: the ranks this launcher stopped, and the ones running that it did not start. */
async function sayWhatStopped(group: LocalGroup, exits: readonly RankExit[]): Promise<number> {
  const stopped = exits.filter((exit) => exit.stopped).map((exit) => exit.rank);
  process.stdout.write(stopped.length === exits.length ? `stopped all ${exits.length} servers\n`
    : stopped.length === 0 ? 'stopped no server: none of those it started was running\n'
      : `stopped server rank${stopped.length === 1 ? '' : 's'} ${stopped.join(', ')}\n`);
  const notMine = await stillAnswering(group, exits.filter((exit) => !exit.stopped).map((exit) => exit.rank));
  for (const rank of notMine) {
    process.stdout.write(`server rank ${rank} at ${group.group.servers[rank]!.address} is still running: this launcher did not start it ` +
      '(it was started again after its first process exited), so it did not stop it\n');
  }
  return EXIT.ok;
}

function describeExit(exit: RankExit, groupFile: string, dataDir: string): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const rejoin = `hpckv serve --rejoin ${groupFile} --rank ${exit.rank} --data ${dataDir}`;
  if (exit.code === 0) return `server rank ${exit.rank} (pid ${exit.pid}) shut down (exit code 0); to serve its keys again: ${rejoin}`;
  return `server rank ${exit.rank} (pid ${exit.pid}) ${how}; the other servers go on, but its keys are unavailable until it is ` +
    `started again: ${rejoin}`;
}

/** Which of `ranks` (processes this launcher started that had exited) answer at the group's address: someone restarted them. */
async function stillAnswering(group: LocalGroup, ranks: readonly number[]): Promise<number[]> {
  if (ranks.length === 0) return [];
  const client = await Client.fromGroup(group.group);
  try {
    const answers = await client.statEach({ timeoutMs: PROBE_TIMEOUT_MS });
    return answers.filter((answer) => ranks.includes(answer.rank) && !isUnreachable(answer.error)).map((answer) => answer.rank);
  } finally {
    await client.close();
  }
}
