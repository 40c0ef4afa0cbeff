import type { Communicator } from '../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { DEFAULT_PARTITION, type GroupFile } from '../core/group-file.js';
import { formGroup } from '../core/group-formation.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { serverListenAddress } from '../core/rpc/listen-address.js';
import { serverStarter, type EmbeddedServer } from '../core/server-runtime.js';
import { Client } from './client.js';
import { shareStartFailure } from './start-failure.js';
import {
  SDSDKV_DB_LEVELDB, SDSDKV_ERR_CALL_BEFORE_INIT, SDSDKV_ERR_INVLD_ARG, SDSDKV_ERR_INVLD_CONFIG,
  SDSDKV_ERR_NOT_SUPPORTED, SDSDKV_ERR_SIZE, SDSDKV_ERR_UNKNOWN_KEY, SDSDKV_HASHING_CH_PLACEMENT,
  SDSDKV_PERSONALITY_CLIENT, SDSDKV_PERSONALITY_SERVER, SDSDKV_SUCCESS, SDSDKV_SUCCESS_ALREADY_DONE, sdsdkvCodeOf,
} from './sdsdkv-codes.js';

export * from './sdsdkv-codes.js';

/**
 * SDSDKV's C API in TypeScript: same names, same configuration fields, same return codes,
 * with `Promise<number>` where the C call blocks. Servers and clients are personalities of
 * the ranks of one communicator; sdsdkv_open is collective over it.
 */
export interface sdsdkv_config {
  /** Communicator over which the service is created (MPI_COMM_WORLD in SDSDKV). */
  init_comm: Communicator;
  /** SDSDKV_PERSONALITY_SERVER or SDSDKV_PERSONALITY_CLIENT. */
  personality: number;
  /** Margo's RPC thread count in SDSDKV; accepted (-1 = default) and unused: a server is one event loop. */
  rpc_thread_count: number;
  /** SDSDKV_HASHING_CH_PLACEMENT (hpckv's consistent-hash ring). */
  hash_be: number;
  /** SDSDKV_DB_LEVELDB (SDSDKV_DB_MAP, an in-memory map, is not supported). */
  db_type: number;
  /** Name of a key comparison function; SDSDKV_COMPARE_DEFAULT (null) is byte order, the only one. */
  cmp_fn: string | null;
  /** Group (service) name. */
  group_name: string;
  /** Directory where server ranks keep their databases (rank-<r>/ under it). */
  db_path: string;
  /** 'unix' (Unix sockets, one host), 'tcp' (also 'ofi+tcp'), or 'inproc' (one process). */
  comm_protocol: string;
  /** hpckv limits overlaid on the defaults (optional). */
  limits?: Partial<Limits>;
}

export class SdsdkvContext {
  readonly config: Readonly<sdsdkv_config>;
  readonly transport: 'unix' | 'tcp' | 'inproc';
  client: Client | undefined;
  server: EmbeddedServer | undefined;
  personalityComm: Communicator | undefined;
  group: GroupFile | undefined;
  opened = false;
  destroyed = false;
  /** The error behind the last non-success return code, for diagnostics. */
  lastError: unknown;

  constructor(config: sdsdkv_config, transport: 'unix' | 'tcp' | 'inproc') {
    this.config = config;
    this.transport = transport;
  }
}

/** C's `sdsdkv_context *`: sdsdkv_create stores the new context in `.value`. */
export interface SdsdkvContextRef {
  value?: SdsdkvContext;
}

/** What sdsdkv_get reads and writes through `uint64_t *value_size`. */
export interface SizeRef {
  value: number;
}

function transportOf(protocol: string): 'unix' | 'tcp' | 'inproc' | undefined {
  if (protocol === 'unix' || protocol === 'na+sm' || protocol === 'sm') return 'unix';
  if (protocol === 'tcp' || protocol.endsWith('+tcp')) return 'tcp';
  if (protocol === 'inproc') return 'inproc';
  return undefined;
}

export function sdsdkv_create(ctx: SdsdkvContextRef, config: sdsdkv_config): number {
  if (typeof ctx !== 'object' || ctx === null || typeof config !== 'object' || config === null) return SDSDKV_ERR_INVLD_ARG;
  if (config.personality !== SDSDKV_PERSONALITY_SERVER && config.personality !== SDSDKV_PERSONALITY_CLIENT) return SDSDKV_ERR_INVLD_CONFIG;
  if (config.hash_be !== SDSDKV_HASHING_CH_PLACEMENT) return SDSDKV_ERR_NOT_SUPPORTED;
  if (config.db_type !== SDSDKV_DB_LEVELDB) return SDSDKV_ERR_NOT_SUPPORTED;
  if (config.cmp_fn !== null) return SDSDKV_ERR_NOT_SUPPORTED;
  if (!Number.isInteger(config.rpc_thread_count) || config.rpc_thread_count < -1) return SDSDKV_ERR_INVLD_CONFIG;
  if (typeof config.group_name !== 'string' || config.group_name.length === 0) return SDSDKV_ERR_INVLD_CONFIG;
  if (typeof config.db_path !== 'string' || config.db_path.length === 0) return SDSDKV_ERR_INVLD_CONFIG;
  if (typeof config.init_comm?.allgather !== 'function') return SDSDKV_ERR_INVLD_CONFIG;
  const transport = transportOf(String(config.comm_protocol));
  if (transport === undefined) return SDSDKV_ERR_NOT_SUPPORTED;
  try {
    resolveLimits(config.limits);
  } catch {
    return SDSDKV_ERR_INVLD_CONFIG;
  }
  ctx.value = new SdsdkvContext({ ...config }, transport);
  return SDSDKV_SUCCESS;
}

async function guarded(ctx: SdsdkvContext | undefined, run: (ctx: SdsdkvContext) => Promise<number>): Promise<number> {
  if (!(ctx instanceof SdsdkvContext)) return SDSDKV_ERR_CALL_BEFORE_INIT;
  try {
    return await run(ctx);
  } catch (error) {
    ctx.lastError = error;
    return sdsdkvCodeOf(error);
  }
}

/**
 * Collective over init_comm. Server ranks start serving and return only when the group is
 * destroyed (a client's sdsdkv_destroy shuts them down); client ranks return once connected.
 */
export function sdsdkv_open(ctx: SdsdkvContext): Promise<number> {
  return guarded(ctx, async (context) => {
    if (context.opened) return SDSDKV_SUCCESS_ALREADY_DONE;
    const { init_comm: world, personality } = context.config;
    const limits = resolveLimits(context.config.limits);
    const personalities = await world.allgather(personality);
    const firstServer = personalities.indexOf(SDSDKV_PERSONALITY_SERVER);
    if (firstServer < 0) throw new HpckvError(ErrorCodes.BAD_CONFIG, 'no rank has the server personality');
    const personalityComm = await world.split(personality, world.rank);
    context.personalityComm = personalityComm;
    const group = await startServers(context, personalityComm, limits);
    const shared = await world.bcast<GroupFile | undefined>(firstServer, group);
    if (shared === undefined) throw new HpckvError(ErrorCodes.INTERNAL, 'the first server rank did not share the group');
    context.group = shared;
    if (personality === SDSDKV_PERSONALITY_CLIENT) {
      context.client = await Client.fromGroup(context.group, context.config.limits === undefined ? {} : { limits: context.config.limits });
    }
    await world.barrier();
    context.opened = true;
    if (context.server !== undefined) await context.server.stopped;
    return SDSDKV_SUCCESS;
  });
}

/**
 * sdsdkv_open's server side: a server rank starts its server; every rank then learns whether all
 * of them started (a server that cannot start, say on a db_path made for another server count,
 * makes every rank fail with its code instead of waiting for it); the servers form the group.
 * Resolves to the group on server ranks, undefined on client ranks.
 */
async function startServers(context: SdsdkvContext, personalityComm: Communicator, limits: Limits): Promise<GroupFile | undefined> {
  const { init_comm: world, personality, group_name: service, db_path: dataDir } = context.config;
  let failure: unknown;
  if (personality === SDSDKV_PERSONALITY_SERVER) {
    try {
      context.server = await serverStarter()({
        rank: personalityComm.rank, size: personalityComm.size, service, dataDir, databases: [DEFAULT_DATABASE],
        listenAddress: serverListenAddress(context.transport, dataDir, personalityComm.rank), limits, partition: DEFAULT_PARTITION, epoch: 0,
      });
    } catch (error) {
      failure = error;
    }
  }
  try {
    await shareStartFailure(world, failure, 'sdsdkv_open: server');
  } catch (error) {
    await context.server?.stop();
    context.server = undefined;
    await personalityComm.close();
    context.personalityComm = undefined;
    throw error;
  }
  if (context.server === undefined) return undefined;
  return formGroup(personalityComm, { address: context.server.address, databases: [DEFAULT_DATABASE] },
    { service, partition: DEFAULT_PARTITION, epoch: 0, limits: context.config.limits ?? {} });
}

function checkSize(name: string, bytes: Uint8Array, size: number | bigint): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  const n = Number(size);
  if (!Number.isSafeInteger(n) || n < 0 || n > bytes.length) throw new RangeError(`${name}_size ${String(size)} does not fit the ${name} buffer`);
  return n;
}

function clientOf(ctx: SdsdkvContext): Client {
  if (ctx.client === undefined) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, 'sdsdkv_put/get need an opened context with the client personality');
  }
  return ctx.client;
}

export function sdsdkv_put(ctx: SdsdkvContext, key: Uint8Array, key_size: number | bigint,
  value: Uint8Array, value_size: number | bigint): Promise<number> {
  return guarded(ctx, async (context) => {
    const k = key.subarray(0, checkSize('key', key, key_size));
    const v = value.subarray(0, checkSize('value', value, value_size));
    await clientOf(context).put(k, v);
    return SDSDKV_SUCCESS;
  });
}

/**
 * Reads into the caller's buffer. `value_size.value` is the buffer's usable size on entry and
 * the value's size on return; a buffer too small returns SDSDKV_ERR_SIZE with the needed size.
 */
export function sdsdkv_get(ctx: SdsdkvContext, key: Uint8Array, key_size: number | bigint,
  value: Uint8Array, value_size: SizeRef): Promise<number> {
  return guarded(ctx, async (context) => {
    const k = key.subarray(0, checkSize('key', key, key_size));
    if (typeof value_size !== 'object' || value_size === null) throw new TypeError('value_size must be a SizeRef');
    const capacity = checkSize('value', value, value_size.value);
    const stored = await clientOf(context).get(k);
    if (stored === undefined) return SDSDKV_ERR_UNKNOWN_KEY;
    value_size.value = stored.length;
    if (stored.length > capacity) return SDSDKV_ERR_SIZE;
    value.set(stored, 0);
    return SDSDKV_SUCCESS;
  });
}

/**
 * Collective over init_comm. Client rank 0 shuts every server down once all clients are here;
 * servers (returned from sdsdkv_open by then) release their side; everyone meets at a barrier.
 */
export function sdsdkv_destroy(ctx: SdsdkvContext): Promise<number> {
  return guarded(ctx, async (context) => {
    if (context.destroyed) return SDSDKV_SUCCESS_ALREADY_DONE;
    context.destroyed = true;
    const personalityComm = context.personalityComm;
    if (context.client !== undefined && personalityComm !== undefined) {
      await personalityComm.barrier();
      if (personalityComm.rank === 0) await context.client.shutdownServers();
      await context.client.close();
    }
    await context.server?.stop();
    if (context.opened) await context.config.init_comm.barrier();
    await personalityComm?.close();
    return SDSDKV_SUCCESS;
  });
}

/** The error behind the last failed call on this context (hpckv's typed error), if any. */
export function sdsdkv_last_error(ctx: SdsdkvContext): unknown {
  return ctx.lastError;
}
