/**
 * The workloads: the ParSplice demo (npm start), the mixed workload and the benchmark suite.
 * They are imported when run: loading them took about 200 ms of every server's start.
 */
import { integerFlag, positionalArgs } from '../cli-args.js';
import { EXIT, type CliCommand } from '../cli-command.js';

/** A command whose code is not in this installation: reported in one line, without a stack. */
export class CommandUnavailableError extends Error {}

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

export const demo: CliCommand = {
  name: 'demo',
  summary: 'the main job (npm start): a ParSplice campaign on an embedded group',
  usage: `hpckv demo [--servers N] [--workers N] [--seconds S]
    A ParSplice molecular dynamics campaign on an embedded group (default 4 servers, 3 workers,
    25 s), with a progress bar, a summary checked back from the store, and server-side queries
    over the states.`,
  flags: ['servers', 'workers', 'seconds'],
  async run({ flags, positionals }) {
    positionalArgs('demo', positionals, []);
    const options = { servers: integerFlag(flags, 'servers', 4), workers: integerFlag(flags, 'workers', 3), seconds: integerFlag(flags, 'seconds', 25) };
    await (await importCommand('demo', () => import('../../examples/parsplice/demo.js'))).runDemo(options);
    return EXIT.ok;
  },
};

export const mixed: CliCommand = {
  name: 'mixed',
  summary: 'a mixed workload checked against a model',
  usage: `hpckv mixed [--servers N] [--ops N]
    A mixed put/get/del/batch/write-once workload (default 4 servers, 20000 operations) checked
    against a model, then per-server stats.`,
  flags: ['servers', 'ops'],
  async run({ flags, positionals }) {
    positionalArgs('mixed', positionals, []);
    const options = { servers: integerFlag(flags, 'servers', 4), operations: integerFlag(flags, 'ops', 20_000) };
    await (await importCommand('mixed', () => import('../../examples/mixed-workload.js'))).runMixedWorkload(options);
    return EXIT.ok;
  },
};

export const bench: CliCommand = {
  name: 'bench',
  summary: 'the benchmark suite (npm run bench; a development command, in a checkout after npm ci); hpckv bench --help for its options',
  usage: 'hpckv bench --help prints the suite\'s options.',
  flags: [],
  // The suite has options of its own (bench/suite/suite-main.ts), --help among them.
  ownFlags: true,
  async run({ argv }) {
    await (await importCommand('bench', () => import('../../bench/suite/suite-main.js'))).suiteMain(argv);
    return EXIT.ok;
  },
};
