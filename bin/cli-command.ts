/**
 * The shape of one `hpckv` command: its name, its help, the flags it takes and what it runs.
 * The CLI's entry (bin/hpckv.ts) parses the line, refuses flags a command does not take, prints
 * a command's usage for `--help` and `hpckv help NAME`, and maps what run returns to the exit status.
 */
import type { FlagName, Flags } from './cli-args.js';

/** Exit statuses, as the usage and the README say. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CommandInput {
  flags: Flags;
  positionals: string[];
  /** The words after the command name, unparsed (for a command that reads its own flags). */
  argv: string[];
}

export interface CliCommand {
  readonly name: string;
  /** One line for the list of commands (`hpckv help`). */
  readonly summary: string;
  /** What `hpckv help NAME` prints: the synopsis, then what it does. */
  readonly usage: string;
  readonly flags: readonly FlagName[];
  /** The command reads its own flags from `argv` (bench: its suite has options of its own). */
  readonly ownFlags?: boolean;
  /** The exit status: EXIT.ok, or EXIT.failed for "not found" (errors are thrown). */
  run(input: CommandInput): Promise<number>;
}
