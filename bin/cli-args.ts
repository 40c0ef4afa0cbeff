/**
 * The command line's flags and their checks: one table of every flag (parseArgs reads them all,
 * then each command refuses the ones it does not take), and the readers of typed flag values.
 * A bad flag is a UsageError (exit 2, one line and a hint), never a stack.
 */
import { parseArgs } from 'node:util';
import type { Limits } from '../core/limits.js';

export const OPTIONS = {
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
  'split-points': { type: 'string' },
  sample: { type: 'string' },
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
  gt: { type: 'string' },
  lte: { type: 'string' },
  lt: { type: 'string' },
  prefix: { type: 'string' },
  limit: { type: 'string' },
  reverse: { type: 'boolean' },
  json: { type: 'boolean' },
  args: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type FlagName = keyof typeof OPTIONS;

export type Flags = { [K in FlagName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** A mistake in the command line: reported as one line and a hint, exit status 2. */
export class UsageError extends Error {}

/** parseArgs' own complaints (an unknown flag, a flag without its value) are usage errors too. */
export function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'));
}

/** The flags and positionals after the command name, refusing flags the command does not take. */
export function parseCommandLine(command: string, argv: readonly string[], accepted: readonly FlagName[]): { flags: Flags; positionals: string[] } {
  const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  const flags = values as Flags;
  for (const name of Object.keys(flags) as FlagName[]) {
    if (name !== 'help' && !accepted.includes(name)) throw new UsageError(`${command} does not take --${name}`);
  }
  return { flags, positionals };
}

export function need(flags: Flags, name: FlagName): string {
  const value = flags[name];
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} is required`);
  return value;
}

export function integerFlag(flags: Flags, name: FlagName, fallback: number): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || !/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new UsageError(`--${name} must be an integer, got ${String(text)}`);
  return value;
}

/** A count flag (--limit, --servers): an integer of at least 1, or undefined when not given. */
export function positiveFlag(flags: Flags, name: FlagName): number | undefined {
  if (flags[name] === undefined) return undefined;
  const value = integerFlag(flags, name, 0);
  if (value < 1) throw new UsageError(`--${name} must be at least 1, got ${value}`);
  return value;
}

export function transportFlag(flags: Flags): 'unix' | 'tcp' {
  const transport = flags.transport ?? 'unix';
  if (transport !== 'unix' && transport !== 'tcp') throw new UsageError('--transport must be unix or tcp');
  return transport;
}

/** --limits JSON: its names and values are checked by resolveLimits where it is used (HPCKV_ERR_BAD_CONFIG). */
export function limitsFlag(flags: Flags): Partial<Limits> | undefined {
  if (flags.limits === undefined) return undefined;
  let limits: unknown;
  try {
    limits = JSON.parse(flags.limits);
  } catch {
    throw new UsageError('--limits must be a JSON object, e.g. \'{"valueBytesMax": 1048576}\'');
  }
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) throw new UsageError('--limits must be a JSON object');
  return limits as Partial<Limits>;
}

/** `--databases a,b` as a list. */
export function databasesFlag(flags: Flags): { databases?: string[] } {
  return flags.databases === undefined ? {} : { databases: flags.databases.split(',') };
}

/** The positional arguments a command takes, by name, or a usage error naming them. */
export function positionalArgs(command: string, given: readonly string[], names: readonly string[]): string[] {
  if (given.length !== names.length) {
    throw new UsageError(`${command} takes ${names.length === 0 ? 'no arguments' : names.join(' ')}, got ${given.length} argument${given.length === 1 ? '' : 's'}`);
  }
  return [...given];
}

/** `--db NAME` as a request option. */
export function dbOption(flags: Flags): { db?: string } {
  return flags.db === undefined ? {} : { db: flags.db };
}
