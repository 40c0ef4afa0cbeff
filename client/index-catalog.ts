/**
 * Secondary index definitions and their catalog records: a definition checked against the group,
 * stored once (on rank 0 of its index database, with `putIfAbsent`, so every rank of a job may
 * create the same index) and found again by name. Apart from the index's reads and writes, which
 * need a definition only once it is known.
 */
import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import type { HashPartitionSpec } from '../core/group-file.js';
import { catalogKey, INDEX_NAME_PATTERN, indexNamespace } from '../core/index-entry-key.js';
import { formatKeyType, parseKeyType } from '../core/keys/key-type.js';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { callOptions } from './core/call-options.js';
import type { RequestOptions } from './core/options.js';
import { indexPartitioner } from './index-layout.js';
import type { CreateIndexOptions, IndexDefinition, IndexHost, IndexPartitionSpec, OpenIndexOptions } from './index-types.js';

const DEFAULT_INDEX_PARTITION: HashPartitionSpec = { scheme: 'hash', virtualNodes: 256, seed: 0 };
/** Catalog records live on rank 0 of the index database. */
const CATALOG_RANK = 0;

/**
 * Stores the definition of index `name`, or accepts the one stored when it is the same (so every
 * rank of a job may call it). Another definition under the name is HPCKV_ERR_INDEX_EXISTS.
 */
export async function createIndexDefinition(host: IndexHost, name: string, options: CreateIndexOptions, call: RequestOptions): Promise<IndexDefinition> {
  const definition = checkDefinition(host, name, options);
  const elsewhere = (await findCatalog(host, name, undefined, call)).filter((found) => found.indexDb !== definition.indexDb);
  if (elsewhere.length > 0) throw indexExists(definition, elsewhere[0]!);
  const key = catalogKey(indexNamespace(name));
  try {
    await host.call(CATALOG_RANK, 'putIfAbsent', { db: definition.indexDb, key, value: Buffer.from(JSON.stringify(definition)), sync: true }, call);
  } catch (error) {
    if (!isHpckvError(error, ErrorCodes.KEY_EXISTS)) throw error;
    const [stored] = await findCatalog(host, name, definition.indexDb, call);
    if (stored === undefined || JSON.stringify(stored) !== JSON.stringify(definition)) throw indexExists(definition, stored);
  }
  return definition;
}

/** The stored definition of index `name`; HPCKV_ERR_UNKNOWN_INDEX when there is none (or several, and no indexDb said which). */
export async function openIndexDefinition(host: IndexHost, name: string, options: OpenIndexOptions): Promise<IndexDefinition> {
  checkName(name);
  if (options.indexDb !== undefined) checkDatabase(host, options.indexDb, 'indexDb');
  const found = await findCatalog(host, name, options.indexDb, options);
  if (found.length !== 1) {
    throw new HpckvError(ErrorCodes.UNKNOWN_INDEX, found.length === 0
      ? `no secondary index "${name}"${options.indexDb === undefined ? '' : ` in database "${options.indexDb}"`}`
      : `secondary index "${name}" is defined in databases ${found.map((d) => d.indexDb).join(', ')}: pass indexDb`,
    { details: { index: name } });
  }
  return found[0]!;
}

function badConfig(message: string, details: Record<string, string> = {}): HpckvError {
  return new HpckvError(ErrorCodes.BAD_CONFIG, message, { details });
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !INDEX_NAME_PATTERN.test(name)) {
    throw badConfig(`index name must match ${String(INDEX_NAME_PATTERN)}, got ${JSON.stringify(String(name)).slice(0, 80)}`, { index: String(name).slice(0, 80) });
  }
}

/** Every server of the group must hold the database (indexes span the whole group). */
function checkDatabase(host: IndexHost, db: string, field: string): void {
  if (typeof db !== 'string' || !host.group.servers.every((server) => server.databases.includes(db))) {
    throw new HpckvError(ErrorCodes.UNKNOWN_DATABASE, `${field}: the group has no database "${String(db)}" on every server`, { details: { db: String(db), field } });
  }
}

function checkDefinition(host: IndexHost, name: string, options: CreateIndexOptions): IndexDefinition {
  checkName(name);
  if (typeof options !== 'object' || options === null) throw new TypeError('createIndex needs options { kind, indexDb, keyType }');
  if (options.kind !== 'global' && options.kind !== 'local') throw badConfig(`index kind must be "global" or "local", got ${String(options.kind)}`);
  const primaryDb = options.primaryDb ?? DEFAULT_DATABASE;
  checkDatabase(host, primaryDb, 'primaryDb');
  checkDatabase(host, options.indexDb, 'indexDb');
  const keyType = formatKeyType(parseKeyType(options.keyType));
  let partition: IndexPartitionSpec | null = null;
  if (options.kind === 'global') {
    const spec = options.partition ?? DEFAULT_INDEX_PARTITION;
    if (spec.scheme !== 'hash' && spec.scheme !== 'range') throw badConfig('an index partition is "hash" or "range"');
    partition = spec.scheme === 'hash'
      ? { scheme: 'hash', virtualNodes: spec.virtualNodes, seed: spec.seed }
      : { scheme: 'range', boundaries: [...spec.boundaries], epoch: spec.epoch };
    indexPartitioner(partition, host.group.servers.length);
  } else if (options.partition !== undefined) {
    throw badConfig('a local index has no partition of its own: its entries live with their records');
  }
  return { name, kind: options.kind, primaryDb, indexDb: options.indexDb, keyType, partition };
}

/** Catalog records of `name`, from one index database or from every database of the group. */
async function findCatalog(host: IndexHost, name: string, indexDb: string | undefined, options: RequestOptions): Promise<IndexDefinition[]> {
  const candidates = indexDb !== undefined ? [indexDb] : host.group.servers[CATALOG_RANK]!.databases;
  const key = catalogKey(indexNamespace(name));
  const found = await Promise.all(candidates.map((db) => host.call(CATALOG_RANK, 'get', { db, key }, callOptions(options))));
  const out: IndexDefinition[] = [];
  found.forEach((bytes, i) => { if (bytes !== null) out.push(parseDefinition(bytes, candidates[i]!)); });
  return out;
}

function parseDefinition(bytes: Uint8Array, db: string): IndexDefinition {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as IndexDefinition;
    if (typeof value.name === 'string' && (value.kind === 'global' || value.kind === 'local') && value.indexDb === db
      && typeof value.primaryDb === 'string' && typeof value.keyType === 'string') return value;
  } catch { /* reported below */ }
  throw new HpckvError(ErrorCodes.UNKNOWN_INDEX, `the catalog record in database "${db}" is damaged`, { details: { db } });
}

function indexExists(wanted: IndexDefinition, stored: IndexDefinition | undefined): HpckvError {
  return new HpckvError(ErrorCodes.INDEX_EXISTS,
    `secondary index "${wanted.name}" exists with another definition: ${JSON.stringify(stored ?? 'unreadable')}`,
    { details: { index: wanted.name, indexDb: stored?.indexDb ?? null } });
}
