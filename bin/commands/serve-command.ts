/**
 * `hpckv serve`: one server rank, as hpckv launch, mpirun or srun start it (rank and size from
 * the environment), or one rank of an existing group started again (`--rejoin`).
 */
import { detectLaunch } from '../../core/comm/launch-env.js';
import { rejoin } from '../../server/rejoin.js';
import { serve as serveRank } from '../../server/serve.js';
import { databasesFlag, integerFlag, limitsFlag, need, positionalArgs, transportFlag, UsageError, type FlagName } from '../cli-args.js';
import { EXIT, type CliCommand } from '../cli-command.js';
import { PARTITION_SYNOPSIS, partitionFlags } from '../partition-flags.js';

const REJOIN_FLAGS: readonly FlagName[] = ['rejoin', 'rank', 'data'];

export const serve: CliCommand = {
  name: 'serve',
  summary: 'run one server rank (under hpckv launch, mpirun or srun), or start a crashed one again',
  usage: `hpckv serve --group-dir DIR --data DIR [--transport unix|tcp] [--host H] [--root-address tcp://H:P]
            [--databases a,b] [--key-type T] ${PARTITION_SYNOPSIS}
            [--limits JSON] [--auth-secret-file F]
    Runs one server rank; rank and size come from the launcher's environment (HPCKV_RANK/SIZE,
    OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/SIZE, SLURM_PROCID/NTASKS). Ranks meet through files in the
    group directory, or at rank 0's --root-address when they span hosts. Rank 0 removes the previous
    group.json at once and prints "group file written: PATH" when the new one is in place.
hpckv serve --rejoin GROUP_FILE --rank R --data DIR
    Starts rank R of an existing group again (after a crash) at its address in the group file, on
    its old stores; clients reconnect on their next call.`,
  flags: ['group-dir', 'data', 'transport', 'host', 'root-address', 'service', 'databases', 'key-type', 'partition', 'split-points',
    'sample', 'virtual-nodes', 'seed', 'limits', 'auth-secret-file', 'rejoin', 'rank'],
  async run({ flags, positionals }) {
    positionalArgs('serve', positionals, []);
    if (flags.rejoin !== undefined) {
      const other = (Object.keys(flags) as FlagName[]).find((name) => name !== 'help' && !REJOIN_FLAGS.includes(name));
      if (other !== undefined) throw new UsageError(`serve --rejoin takes only --rank and --data (the rest is in the group file), not --${other}`);
      need(flags, 'rank');
      // One rank of an existing group, again: everything but the rank and data comes from the group file.
      await rejoin({ groupFile: flags.rejoin, rank: integerFlag(flags, 'rank', -1), dataDir: need(flags, 'data') });
      return EXIT.ok;
    }
    const keyType = flags['key-type'];
    // Without a rank in the environment serve itself says so; split points need the group's size.
    const size = detectLaunch()?.size;
    const partition = size === undefined ? undefined : await partitionFlags(flags, size, keyType ?? 'bytes');
    const limits = limitsFlag(flags);
    await serveRank({
      groupDir: need(flags, 'group-dir'), dataDir: need(flags, 'data'), transport: transportFlag(flags),
      ...(flags.host === undefined ? {} : { host: flags.host }),
      ...(flags['root-address'] === undefined ? {} : { rootAddress: flags['root-address'] }),
      ...(keyType === undefined ? {} : { keyType }),
      ...(flags.service === undefined ? {} : { service: flags.service }),
      ...databasesFlag(flags),
      ...(partition === undefined ? {} : { partition }),
      ...(limits === undefined ? {} : { limits }),
      ...(flags['auth-secret-file'] === undefined ? {} : { authSecretFile: flags['auth-secret-file'] }),
    });
    return EXIT.ok;
  },
};
