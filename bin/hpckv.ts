#!/usr/bin/env node
/**
 * The `hpckv` command line: finds the command (bin/commands/), reads its flags, runs it and maps
 * the outcome to the exit status: 0 ok; 1 not found, or a failed operation (one line with the
 * error's code); 2 a usage error (one line and which help to read, never the whole usage).
 */
import { isHpckvError } from '../core/errors.js';
import { isUsageError, parseCommandLine } from './cli-args.js';
import { EXIT, type CliCommand } from './cli-command.js';
import { overview, packageVersion } from './cli-usage.js';
import { exec, shutdown, stat } from './commands/group-commands.js';
import { del, get, put, where } from './commands/key-commands.js';
import { launch } from './commands/launch-command.js';
import { count, first, last, next, prev, scan } from './commands/read-commands.js';
import { serve } from './commands/serve-command.js';
import { bench, demo, mixed } from './commands/workload-commands.js';

const COMMANDS: readonly CliCommand[] = [
  launch, serve, shutdown, put, get, del, where, scan, count, first, last, next, prev, stat, exec, demo, mixed, bench,
];

/** The command being run, once known: a usage error's hint points at its help. */
let current: CliCommand | undefined;

function commandNamed(name: string): CliCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

class UnknownCommand extends Error {}

/** `hpckv help [COMMAND]`. */
async function help(words: readonly string[]): Promise<number> {
  if (words.length === 0) {
    process.stdout.write(overview(COMMANDS) + '\n');
    return EXIT.ok;
  }
  const command = commandNamed(words[0]!);
  if (command === undefined || words.length > 1) throw new UnknownCommand(`no help for ${words.join(' ')}: hpckv help lists the commands`);
  if (command.ownFlags === true) return command.run({ flags: {}, positionals: [], argv: ['--help'] });
  process.stdout.write(command.usage + '\n');
  return EXIT.ok;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stdout.write(overview(COMMANDS) + '\n');
    return EXIT.usage;
  }
  if (name === '--version') {
    process.stdout.write(`${await packageVersion()}\n`);
    return EXIT.ok;
  }
  if (name === 'help' || name === '--help' || name === '-h') return help(rest);
  current = commandNamed(name);
  if (current === undefined) throw new UnknownCommand(`unknown command ${name}`);
  if (current.ownFlags === true) return current.run({ flags: {}, positionals: [], argv: rest });
  const { flags, positionals } = parseCommandLine(name, rest, current.flags);
  if (flags.help === true) {
    process.stdout.write(current.usage + '\n');
    return EXIT.ok;
  }
  return current.run({ flags, positionals, argv: rest });
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof UnknownCommand || isUsageError(error)) {
      const hint = current === undefined ? 'hpckv help' : `hpckv help ${current.name}`;
      process.stderr.write(`hpckv: ${(error as Error).message}\nrun "${hint}" for usage\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(isHpckvError(error) ? `hpckv: ${error.code}: ${error.message}\n`
      : `hpckv: ${error instanceof Error ? error.stack : String(error)}\n`);
    // A failed command must not linger on open handles (a half-started server rank, say).
    process.stderr.write('', () => process.exit(EXIT.failed));
  },
);
