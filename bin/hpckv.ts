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
import { bench, CommandUnavailableError, demo, mixed } from './commands/workload-commands.js';

const COMMANDS: readonly CliCommand[] = [
  launch, serve, shutdown, put, get, del, where, scan, count, first, last, next, prev, stat, exec, demo, mixed, bench,
];

function commandNamed(name: string): CliCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** A usage error: one line, then which help to read (never the whole usage). */
function usageError(message: string, command: CliCommand | undefined): number {
  process.stderr.write(`hpckv: ${message}\nrun "hpckv help${command === undefined ? '' : ` ${command.name}`}" for usage\n`);
  return EXIT.usage;
}

/** `hpckv help [COMMAND]`. */
async function help(words: readonly string[]): Promise<number> {
  if (words.length === 0) {
    process.stdout.write(overview(COMMANDS) + '\n');
    return EXIT.ok;
  }
  const command = commandNamed(words[0]!);
  if (command === undefined || words.length > 1) return usageError(`no help for ${words.join(' ')}`, undefined);
  if (command.ownFlags === true) return command.run({ flags: {}, positionals: [], argv: ['--help'] });
  process.stdout.write(command.usage + '\n');
  return EXIT.ok;
}

async function runCommand(command: CliCommand, argv: string[]): Promise<number> {
  if (command.ownFlags === true) return command.run({ flags: {}, positionals: [], argv });
  const { flags, positionals } = parseCommandLine(command.name, argv, command.flags);
  if (flags.help === true) {
    process.stdout.write(command.usage + '\n');
    return EXIT.ok;
  }
  return command.run({ flags, positionals, argv });
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
  const command = commandNamed(name);
  if (command === undefined) return usageError(`unknown command ${name}`, undefined);
  try {
    return await runCommand(command, rest);
  } catch (error) {
    if (isUsageError(error)) return usageError((error as Error).message, command);
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(isHpckvError(error) ? `hpckv: ${error.code}: ${error.message}\n`
      : error instanceof CommandUnavailableError ? `hpckv: ${error.message}\n`
        : `hpckv: ${error instanceof Error ? error.stack : String(error)}\n`);
    // A failed command must not linger on open handles (a half-started server rank, say).
    process.stderr.write('', () => process.exit(EXIT.failed));
  },
);
