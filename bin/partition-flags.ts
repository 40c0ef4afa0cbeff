/**
 * The partitioning a group is launched with, from the command line: `--partition hash` (the
 * ring's --virtual-nodes and --seed), `--partition range` with split points given as keys of the
 * store's type (`--split-points '[...]'`, JSON, BigInt-safe) or chosen from a sample of keys
 * (`--sample FILE`, equal shares by RangeTable.fromSample), or a whole spec as JSON. Everything
 * is checked here, before any server starts: a bad value is HPCKV_ERR_BAD_CONFIG naming the flag.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import { DEFAULT_PARTITION, type PartitionSpec } from '../core/group-file.js';
import { RangeTable } from '../partition/range-table.js';
import { integerFlag, UsageError, type Flags } from './cli-args.js';
import { JsonSyntaxError, parseJsonExact } from './cli-json.js';
import { StoreKeys } from './store-keys.js';

export const PARTITION_SYNOPSIS = '[--partition hash [--virtual-nodes V] [--seed S] | --partition range (--split-points JSON | --sample FILE) | --partition JSON]';

/** What the partition flags mean, for the usage of launch. */
export const PARTITION_NOTE = `--partition range: contiguous key ranges, server 0 below the first split point. --split-points
  takes N-1 keys of the store's type as a JSON array, increasing ('[1000,2000]' for int64,
  '["g","p"]' for string, '[["run",5]]' for tuples); --sample FILE (one key a line, in the CLI's
  key form) chooses them so every server gets the same share of the sample's distinct keys.
  --partition JSON takes a whole spec, e.g. '{"scheme":"slices","sliceSize":50,"keyType":"int64"}'.`;

/** The spec the flags describe for a group of `servers` servers of key type `keyType`; undefined: the default ring. */
export async function partitionFlags(flags: Flags, servers: number, keyType: string): Promise<PartitionSpec | undefined> {
  const scheme = flags.partition;
  const ranged = flags['split-points'] !== undefined || flags.sample !== undefined;
  const ring = flags['virtual-nodes'] !== undefined || flags.seed !== undefined;
  if (ranged && scheme !== 'range') throw new UsageError('--split-points and --sample go with --partition range');
  if (ring && scheme !== undefined && scheme !== 'hash') throw new UsageError('--virtual-nodes and --seed go with --partition hash');
  if (scheme === 'range') return rangeSpec(flags, servers, keyType);
  if (scheme === 'hash' || ring) {
    return { scheme: 'hash', virtualNodes: integerFlag(flags, 'virtual-nodes', DEFAULT_PARTITION.virtualNodes), seed: integerFlag(flags, 'seed', DEFAULT_PARTITION.seed) };
  }
  if (scheme === undefined) return undefined;
  if (!scheme.trimStart().startsWith('{')) throw new UsageError(`--partition takes hash, range or a JSON spec, got ${scheme}`);
  try {
    // Checked as clients will read it once the group has formed (core/group-file.ts).
    return JSON.parse(scheme) as PartitionSpec;
  } catch {
    throw new UsageError('--partition must be hash, range or a JSON partition spec');
  }
}

async function rangeSpec(flags: Flags, servers: number, keyType: string): Promise<PartitionSpec> {
  if ((flags['split-points'] === undefined) === (flags.sample === undefined)) {
    throw new UsageError('--partition range needs --split-points JSON or --sample FILE (one of them)');
  }
  const keys = new StoreKeys(keyType);
  if (flags['split-points'] !== undefined) return splitPointsSpec(flags['split-points'], servers, keys);
  return sampleSpec(flags.sample!, servers, keys);
}

function badConfig(what: string, why: string, cause?: unknown): HpckvError {
  return new HpckvError(ErrorCodes.BAD_CONFIG, `${what}: ${why}`, { cause, details: { setting: what } });
}

/** N-1 keys of the store's type, strictly increasing: server 0 below the first, server i from split point i-1. */
function splitPointsSpec(text: string, servers: number, keys: StoreKeys): PartitionSpec {
  let points: unknown;
  try {
    points = parseJsonExact(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw badConfig('--split-points', `a JSON array of keys: ${error.message}`, error);
    throw error;
  }
  if (!Array.isArray(points)) throw badConfig('--split-points', 'a JSON array of keys of the store\'s type');
  if (points.length !== servers - 1) {
    throw badConfig('--split-points', `${servers} servers need ${servers - 1} split points, got ${points.length}`);
  }
  const bounds = points.map((point, i) => asConfig(() => keys.encodeJson(point, `--split-points[${i}]`)));
  return asConfig(() => new RangeTable(bounds, 0, servers).toSpec(), '--split-points');
}

/** Split points that give every server the same share of a sample's distinct keys (one key a line). */
async function sampleSpec(file: string, servers: number, keys: StoreKeys): Promise<PartitionSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw badConfig(`--sample ${file}`, `cannot be read (${String((cause as NodeJS.ErrnoException).code ?? cause)})`, cause);
  }
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const sample = lines.flatMap((line, i) => (line === '' ? [] : [asConfig(() => keys.encode(line, `--sample ${file} line ${i + 1}`))]));
  return asConfig(() => RangeTable.fromSample(sample, servers).toSpec(), `--sample ${file}`);
}

/**
 * Runs a check whose failure is the operator's: a key not of the store's type (BAD_KEY), or the
 * range table's own rule (a RangeError: not increasing, too few distinct keys) becomes BAD_CONFIG.
 */
function asConfig<T>(run: () => T, what?: string): T {
  try {
    return run();
  } catch (error) {
    // The key's message starts with the flag and the place (`--split-points[1] ...`).
    if (isHpckvError(error, ErrorCodes.BAD_KEY)) throw new HpckvError(ErrorCodes.BAD_CONFIG, error.message, { cause: error, details: error.details });
    if (what !== undefined && (error instanceof RangeError || error instanceof TypeError)) throw badConfig(what, error.message.replace(/^RangeTable[.\w]*: /, ''), error);
    throw error;
  }
}
