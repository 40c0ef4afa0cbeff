import { join } from 'node:path';
import type { EmbeddedServer, EmbeddedServerOptions } from '../core/server-runtime.js';
import { RpcServer } from '../core/rpc/rpc-server.js';
import { checkPartitionSpec } from '../core/partition-spec.js';
import { createPartitioner } from '../partition/partitioner.js';
import { checkDataIdentity } from './data-identity.js';
import { RegionService } from './region-service.js';
import { createRequestDispatch } from './request-dispatch.js';
import { ProcedureJobs } from './procedure-jobs.js';
import { Provider } from './provider.js';
import { StagedPuts } from './staged-puts.js';

/**
 * A server rank's options are exactly what the embedded-server seam passes (see
 * core/server-runtime.ts): `dataDir` is the base directory, this rank keeps its stores under
 * `<dataDir>/rank-<rank>`; `listenAddress` is unix:///path, tcp://host:0 or inproc://name.
 */
export type ServerRankOptions = EmbeddedServerOptions;

export interface RunningServer extends EmbeddedServer {
  readonly rank: number;
  readonly provider: Provider;
}

/** Opens this rank's stores and serves them on one address. */
export async function startServerRank(options: ServerRankOptions): Promise<RunningServer> {
  const dataDir = join(options.dataDir, `rank-${options.rank}`);
  // Every way to start a rank ends here: a bad spec is HPCKV_ERR_BAD_CONFIG before any store opens.
  checkPartitionSpec(options.partition, options.size, options.keyType ?? 'bytes');
  await checkDataIdentity(dataDir, {
    service: options.service, keyType: options.keyType ?? 'bytes', partition: options.partition, serverCount: options.size, rank: options.rank,
  });
  const testHooks = process.env['HPCKV_TEST_HOOKS'] === '1';
  const provider = await Provider.open({
    dataDir, databases: options.databases, limits: options.limits, rank: options.rank,
    service: options.service, epoch: options.epoch,
    // Test hook: with HPCKV_TEST_HOLD_COUNT=1 too, a count of records waits for SIGUSR2, so a
    // test can write while one runs.
    ...(testHooks && process.env['HPCKV_TEST_HOLD_COUNT'] === '1'
      ? { countGate: new Promise<void>((resolve) => { process.once('SIGUSR2', () => resolve()); }) } : {}),
  });
  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { markStopped = resolve; });
  let rpc: RpcServer | undefined;
  let regions: RegionService | undefined;
  let procedures: ProcedureJobs | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await rpc?.close(options.limits.shutdownDrainMs);
      await procedures?.close();
      await provider.close();
      markStopped();
    })();
    return stopping;
  };
  const stagedPuts = new StagedPuts(provider);
  try {
    // Requests route by the op table (core/protocol/op-table.ts). The services are built right
    // after listen resolves, in the same turn, so no request finds them missing.
    const dispatch = createRequestDispatch({
      rank: options.rank, testHooks, validation: provider, closing: () => provider.closing,
      services: {
        // shutdown: answer first; the drain then lets every other request in flight finish.
        process: () => {
          setImmediate(() => void stop());
          return null;
        },
        kv: (op, request) => provider.answer(op, request),
        stagedPuts: (_op, request, connectionId) => stagedPuts.handle(request, connectionId),
        regions: (op, request, connectionId) => regions!.handle(op, request, connectionId),
        procedures: (op, request, connectionId) => procedures!.handle(op, request, connectionId),
      },
    });
    rpc = await RpcServer.listen(options.listenAddress, options.limits, (op, body, context) => dispatch(op, body, context.connectionId), {
      onConnectionClose: (id) => {
        stagedPuts.onConnectionClose(id);
        regions?.onConnectionClose(id);
      },
      ...(options.authSecret === undefined ? {} : { authSecret: options.authSecret }),
    });
    const backChannel = rpc;
    regions = new RegionService({
      limits: options.limits, partitioner: createPartitioner(options.partition, options.size), rank: options.rank,
      database: (name) => provider.database(name), backChannel,
    });
    const limits = options.limits;
    procedures = new ProcedureJobs({
      limits, rank: options.rank, database: (name) => provider.database(name), backChannel,
      stageEntries: (issuer, entries, bytesMax, holdMs) => regions!.stageEntries(issuer, entries, bytesMax, holdMs),
      // Loaded on the first procedure request: a server that runs none never loads isolated-vm.
      createPool: async () => (await import('../procedures/sandbox-pool.js')).SandboxPool.create({
        isolates: limits.procedureIsolatesMax, isolateMemoryMbMax: limits.procedureIsolateMemoryMbMax,
        compiledProceduresMax: limits.proceduresCompiledMax, keyType: options.keyType ?? 'bytes',
      }),
    });
  } catch (error) {
    await provider.close();
    throw error;
  }
  return { rank: options.rank, address: rpc.address, provider, stop, stopped };
}
