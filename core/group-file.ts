import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { AUTH_SCHEME, AUTH_SECRET_BYTES_MAX, AUTH_SECRET_BYTES_MIN } from './rpc/auth-handshake.js';
import { ErrorCodes, HpckvError } from './errors.js';
import { type Limits } from './limits.js';
import { DATABASE_NAME_PATTERN } from './protocol/messages.js';
import { decodeBase64, isRecord, parsePartitionSpec, type HashPartitionSpec, type PartitionSpec } from './partition-spec.js';
import { formatKeyType, parseKeyType } from './keys/key-type.js';

export type { HashPartitionSpec, PartitionSpec, RangePartitionSpec, SlicePartitionSpec } from './partition-spec.js';

/**
 * A group's identity, the way Mochi SSG group files work: servers write it once they all listen,
 * clients attach by reading it. It is written atomically (temp file + rename) so a reader never
 * sees half a file.
 */

export const GROUP_FILE_FORMAT = 1;

/** Key types a store can hold. ('bytes' orders keys by plain byte order.) */
/**
 * A store's key type in its text form (core/keys/key-type.ts): `bytes`, `int64`, `string`,
 * `tuple(string,uint64)`, ... Kept as text in the group file; parse with parseKeyType.
 */
export type KeyType = string;

export interface GroupServer {
  rank: number;
  /** Transport address: tcp://HOST:PORT, unix:///PATH or inproc://NAME. */
  address: string;
  databases: string[];
  host?: string;
  pid?: number;
}

/**
 * A group whose servers ask every connection to prove a shared secret (core/rpc/auth-handshake.ts).
 * The secret is kept here so that reading the group file is what lets a client in: the file is
 * written readable by its owner only (mode 0600).
 */
export interface GroupAuth {
  scheme: typeof AUTH_SCHEME;
  /** The shared secret, base64 (16..1024 bytes). */
  secret: string;
}

export interface GroupFile {
  format: typeof GROUP_FILE_FORMAT;
  service: string;
  keyType: KeyType;
  partition: PartitionSpec;
  /** Bumped whenever the server set or partition map changes. */
  epoch: number;
  /** Limits every member of the group applies (overlaid on the defaults). */
  limits: Partial<Limits>;
  servers: GroupServer[];
  createdAt: string;
  /** Present when the group asks for a shared secret. */
  auth?: GroupAuth;
}

/** The group's shared secret as bytes, or undefined for a group without one. */
export function groupAuthSecret(group: GroupFile): Uint8Array | undefined {
  return group.auth === undefined ? undefined : Buffer.from(group.auth.secret, 'base64');
}

/** 256 virtual nodes keep each server's share within about 6% (1 sd) of fair; 64 gave 12%. */
export const DEFAULT_PARTITION: HashPartitionSpec = { scheme: 'hash', virtualNodes: 256, seed: 0 };

function fail(path: string, what: string): never {
  throw new HpckvError(ErrorCodes.GROUP_FILE, `group file ${path}: ${what}`, { details: { path } });
}

/** Checks a parsed group file; `source` names it in errors. */
export function parseGroupFile(value: unknown, source = '<memory>'): GroupFile {
  if (!isRecord(value)) fail(source, 'not a JSON object');
  if (value['format'] !== GROUP_FILE_FORMAT) fail(source, `format must be ${GROUP_FILE_FORMAT}, got ${String(value['format'])}`);
  const service = value['service'];
  if (typeof service !== 'string' || service.length === 0) fail(source, 'service must be a non-empty string');
  const keyTypeText = value['keyType'] ?? 'bytes';
  let keyType: string;
  try {
    keyType = formatKeyType(parseKeyType(String(keyTypeText)));
  } catch {
    fail(source, `unsupported keyType ${String(keyTypeText)}`);
  }
  const epoch = value['epoch'];
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) fail(source, 'epoch must be a non-negative integer');
  const limits = value['limits'] ?? {};
  if (!isRecord(limits)) fail(source, 'limits must be an object');
  const servers = value['servers'];
  if (!Array.isArray(servers) || servers.length === 0) fail(source, 'servers must be a non-empty array');
  const parsed: GroupServer[] = servers.map((server: unknown, index: number) => {
    if (!isRecord(server)) fail(source, `servers[${index}] is not an object`);
    if (server['rank'] !== index) fail(source, `servers[${index}].rank must be ${index}`);
    const address = server['address'];
    if (typeof address !== 'string' || !/^(tcp|unix|inproc):\/\//.test(address)) {
      fail(source, `servers[${index}].address must be tcp://, unix:// or inproc://`);
    }
    const databases = server['databases'];
    if (!Array.isArray(databases) || databases.length === 0
      || !databases.every((db) => typeof db === 'string' && DATABASE_NAME_PATTERN.test(db))) {
      fail(source, `servers[${index}].databases must be a non-empty list of database names`);
    }
    const entry: GroupServer = { rank: index, address, databases: [...databases] as string[] };
    if (typeof server['host'] === 'string') entry.host = server['host'];
    if (typeof server['pid'] === 'number') entry.pid = server['pid'];
    return entry;
  });
  const partitionSpec = parsePartitionSpec(value['partition'], parsed.length, keyType, (what) => fail(source, what));
  const auth = value['auth'] === undefined ? undefined : parseAuth(source, value['auth']);
  return {
    ...(auth === undefined ? {} : { auth }),
    format: GROUP_FILE_FORMAT,
    service,
    keyType,
    partition: partitionSpec,
    epoch: epoch as number,
    limits: limits as Partial<Limits>,
    servers: parsed,
    createdAt: typeof value['createdAt'] === 'string' ? value['createdAt'] : new Date(0).toISOString(),
  };
}

function parseAuth(source: string, auth: unknown): GroupAuth {
  if (!isRecord(auth)) fail(source, 'auth must be an object');
  if (auth['scheme'] !== AUTH_SCHEME) fail(source, `auth.scheme must be "${AUTH_SCHEME}", got ${String(auth['scheme'])}`);
  const secret = auth['secret'];
  if (typeof secret !== 'string') fail(source, 'auth.secret must be a base64 string');
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(secret);
  } catch {
    fail(source, 'auth.secret is not canonical base64');
  }
  if (bytes.length < AUTH_SECRET_BYTES_MIN || bytes.length > AUTH_SECRET_BYTES_MAX) {
    fail(source, `auth.secret must be ${AUTH_SECRET_BYTES_MIN}..${AUTH_SECRET_BYTES_MAX} bytes, got ${bytes.length}`);
  }
  return { scheme: AUTH_SCHEME, secret };
}

export async function readGroupFile(path: string): Promise<GroupFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new HpckvError(ErrorCodes.GROUP_FILE,
      code === 'ENOENT' ? `group file ${path} does not exist` : `group file ${path} cannot be read (${String(code)})`,
      { cause, details: { path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new HpckvError(ErrorCodes.GROUP_FILE, `group file ${path} is not valid JSON`, { cause, details: { path } });
  }
  return parseGroupFile(json, path);
}

/**
 * Writes atomically: a temp file beside the target, then rename over it. A group with a secret
 * is written readable by its owner only.
 */
export async function writeGroupFile(path: string, group: GroupFile): Promise<void> {
  await writeAtomically(path, JSON.stringify(group, null, 2) + '\n', group.auth === undefined ? 0o666 : 0o600);
}

/**
 * `data` (or its pieces, one after another) into a temp file beside `path`, flushed, then renamed
 * over it: readers see the old file or the new one.
 */
export async function writeAtomically(path: string, data: string | Uint8Array | Iterable<Uint8Array>, mode = 0o666): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    // The mode is set when the file is created, so a secret is never readable by others, even briefly.
    await writeFile(temp, data, { encoding: 'utf8', flush: true, mode });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
