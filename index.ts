/**
 * The hpckv package entry. It composes the layers (as the launcher does): importing it makes
 * this process able to host server ranks, which the sdsdkv facade's server personality needs.
 */
import './server/index.js';

export {
  Client, type BatchOperation, type ClientOptions, type ExecuteOptions, type IterateOptions, type KeyInput, type RangeOptions, type RequestOptions,
  type ServerStat, type WriteOptions,
} from './client/client.js';
export type { MergedScan } from './client/merged-scan.js';
export type { ScanEntry } from './client/range-ops.js';
export type { KeyValue } from './core/keys/key-type.js';
export * from './client/sdsdkv.js';
export { HpcLevel, HPC_LEVEL_MANIFEST, DEFAULT_LEVEL_PREFIX, type HpcLevelOptions } from './client/hpc-level.js';
export { LevelError, LevelAbortError } from './client/hpc-level-errors.js';
export * from './client/mdhim.js';
export { HpckvError, ErrorCodes, isHpckvError, type ErrorCode } from './core/errors.js';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './core/limits.js';
export {
  readGroupFile, type GroupFile, type PartitionSpec, type HashPartitionSpec, type RangePartitionSpec, type SlicePartitionSpec,
} from './core/group-file.js';
export { checkPartitionSpec } from './core/partition-spec.js';
export { createPartitioner, type KeyBound, type Partitioner } from './partition/partitioner.js';
export { HashRing } from './partition/hash-ring.js';
export { RangeTable } from './partition/range-table.js';
export { SlicePartitioner } from './partition/mdhim-slices.js';
export { placementOf, serverFor } from './partition/placement.js';
export { rangePartition, rangePartitionFromSample, type RangePartitionOptions, type RangeSampleOptions } from './partition/range-partition.js';
export type { StatReply } from './core/protocol/messages.js';
export { type Communicator, ANY_SOURCE, ANY_TAG } from './core/comm/communicator.js';
export { createWorldCommunicator } from './core/comm/create-communicator.js';
export { createInprocWorld } from './core/comm/inproc-endpoint.js';
export { mpiUnavailableReason } from './core/comm/mpi-addon.js';
export { mpiWorldInfo, type MpiEndpointOptions } from './core/comm/mpi-endpoint.js';
export { launchLocalGroup, type LaunchOptions, type LocalGroup, type RankExit } from './server/launcher.js';
export {
  SecondaryIndex, type BuildOptions, type BuildProgress, type CreateIndexOptions, type IndexDefinition, type IndexedKeys,
  type IndexKind, type IndexMatch, type IndexPartitionSpec, type KeyExtractor, type LookupOptions, type OpenIndexOptions,
  type SecondaryRange,
} from './client/secondary-index.js';
export {
  PACKED_ABSENT, packPairs, packedPairsBytes, unpackPairs, unpackSlots, slotsLayoutBytes, type PairInput, type SlotValue,
} from './core/regions/packed-pairs.js';
export type { RegionAccess, RegionDescriptor } from './core/regions/region-descriptor.js';
export { RegionHandle } from './client/region-handle.js';
export type { RegionCallOptions, RegionGetOptions, RegionPutOptions, RegionScanResult } from './client/region-ops.js';
export { ProcedureHandle, type ProcedureMatches, type ProcedureProgress, type ProcedureResult } from './client/procedure-handle.js';
export type { ProcedureKind, ProcedureSpec } from './core/procedure-spec.js';
