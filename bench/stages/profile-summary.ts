import type { Profiler } from 'node:inspector';

/**
 * Shares of a CPU profile's time by stage of a request, found from function names and files.
 * A sample's self time goes to the nearest frame (from the top of its stack down) that names a
 * category, so msgpackr's internals count as the encode or decode that called them and a stream
 * internal under onStreamRead counts as socket; its inclusive time goes to every category on its
 * stack (once each). (idle), (garbage collector) and (program) are V8's own pseudo-frames.
 */
export const PROFILE_CATEGORIES = [
  'encode', 'decode', 'validate', 'lock', 'stats/filter', 'store', 'socket', 'rpc + dispatch', 'promises + timers',
  'bench driver', '(garbage collector)', '(program)', '(idle)', 'other',
] as const;

export type ProfileCategory = typeof PROFILE_CATEGORIES[number];

export interface CategoryShare {
  category: ProfileCategory;
  /** Percent of the profile's (or window's) time spent in this category itself. */
  selfPercent: number;
  /** Percent of the time with this category anywhere on the stack. */
  inclusivePercent: number;
}

export interface ProfileSummary {
  samples: number;
  /** Milliseconds from the first to the last sample counted (wall time). */
  ms: number;
  /** True when only the samples within the measured window were counted (the rest of the process life left out). */
  windowed: boolean;
  shares: CategoryShare[];
}

const FILE_CATEGORIES: Readonly<Record<string, ProfileCategory>> = {
  'field-checks.js': 'validate', 'op-table.js': 'rpc + dispatch', 'request-dispatch.js': 'rpc + dispatch',
  'key-locks.js': 'lock',
  'stats-delta.js': 'stats/filter', 'key-filter.js': 'stats/filter', 'xxhash64.js': 'stats/filter',
  'group-commit.js': 'store', 'database.js': 'store', 'staged-puts.js': 'store',
  'stream_base_commons': 'socket', 'net': 'socket',
  // Building a request is the client's encode stage, as in the stage timings.
  'bytes.js': 'encode', 'put-many-parts.js': 'encode', 'partitioner.js': 'encode', 'hash-ring.js': 'encode', 'router.js': 'encode',
  'rpc-client.js': 'rpc + dispatch', 'rpc-server.js': 'rpc + dispatch', 'frame-channel.js': 'rpc + dispatch',
  'server-connections.js': 'rpc + dispatch', 'provider.js': 'rpc + dispatch',
  // The Client facade and the client core's modules under it (the single-key and bulk calls).
  'client.js': 'rpc + dispatch', 'client-core.js': 'rpc + dispatch', 'single-key-ops.js': 'rpc + dispatch', 'bulk-ops.js': 'rpc + dispatch',
  'server-rank.js': 'rpc + dispatch', 'link.js': 'rpc + dispatch', 'transport.js': 'rpc + dispatch',
  'task_queues': 'promises + timers', 'timers': 'promises + timers',
};

/** Native functions (no file) of the socket's write and read paths. */
const SOCKET_FUNCTIONS = new Set(['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'onStreamRead', 'writevGeneric', 'writeGeneric', 'handleWriteReq']);

/** The category a frame names, or null when it should count as whatever called it. */
export function classifyFrame(functionName: string, url: string): ProfileCategory | null {
  if (functionName === '(idle)' || functionName === '(garbage collector)' || functionName === '(program)') return functionName;
  if (url.includes('msgpackr')) {
    if (/unpack|read|decode/i.test(functionName)) return 'decode';
    return /pack|write|encode|makeRoom/i.test(functionName) ? 'encode' : null;
  }
  const path = url.startsWith('node:') ? url.slice('node:'.length) : url;
  const file = path.slice(path.lastIndexOf('/') + 1);
  switch (file) {
    case 'frame-codec.js': return functionName === 'framePrefix' || functionName === 'encodeFrame' ? 'encode' : 'decode';
    case 'tail-frames.js': return /^(decode|restore|protocol)/.test(functionName) ? 'decode' : 'encode';
    case 'message-codec.js': return functionName.startsWith('decode') ? 'decode' : 'encode';
    // unpackList runs in expandPackedLists, which the stage timings count as validation.
    case 'packed-list.js': return functionName === 'unpackList' || functionName === 'malformed' ? 'validate' : 'encode';
    default: break;
  }
  if (url.includes('classic-level') || url.includes('abstract-level')) return 'store';
  if (url.includes('/bench/')) return 'bench driver';
  // Every request check lives under core/protocol/validate/.
  if (url.includes('/dist/core/protocol/validate/')) return 'validate';
  const known = FILE_CATEGORIES[file];
  if (known !== undefined && (url.includes('/dist/') || url.startsWith('node:'))) return known;
  if (url === '' && SOCKET_FUNCTIONS.has(functionName)) return 'socket';
  return null;
}

interface Classified {
  self: ProfileCategory;
  inclusive: ProfileCategory[];
}

/** Each node's self category and the categories on its stack, computed once per node. */
function classifyNodes(profile: Profiler.Profile): Map<number, Classified> {
  const parent = new Map<number, number>();
  const byId = new Map<number, Profiler.ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const done = new Map<number, Classified>();
  const classify = (id: number): Classified => {
    const known = done.get(id);
    if (known !== undefined) return known;
    // Walk up to the first classified ancestor without recursion (stacks can be deep).
    const chain: number[] = [];
    let at: number | undefined = id;
    while (at !== undefined && !done.has(at)) {
      chain.push(at);
      at = parent.get(at);
    }
    let above: Classified = at === undefined ? { self: 'other', inclusive: [] } : done.get(at)!;
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = byId.get(chain[i]!)!;
      const own = classifyFrame(node.callFrame.functionName, node.callFrame.url);
      const result: Classified = own === null
        ? above
        : { self: own, inclusive: above.inclusive.includes(own) ? above.inclusive : [...above.inclusive, own] };
      done.set(chain[i]!, result);
      above = result;
    }
    return done.get(id)!;
  };
  for (const node of profile.nodes) classify(node.id);
  return done;
}

/**
 * Shares of each category in `profile`; with `window` (µs, the profiles' monotonic clock), only
 * the samples taken within it. If no sample falls in the window (clocks not comparable) the whole
 * profile is used and `windowed` says so.
 */
export function summariseProfile(profile: Profiler.Profile, window?: { start: number; end: number }): ProfileSummary {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const nodes = classifyNodes(profile);
  const times = new Array<number>(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) times[i] = t += deltas[i] ?? 0;
  // Every sample counts the same. Weighting a sample by the time to the next one would hand the
  // whole of a descheduled stretch (no samples while another process has the core) to whatever
  // ran just before it; on a shared machine that is most of the error.
  const inWindow = (i: number): boolean => window === undefined || (times[i]! >= window.start && times[i]! <= window.end);
  const windowed = window !== undefined && samples.some((_, i) => inWindow(i));
  const self = new Map<ProfileCategory, number>();
  const inclusive = new Map<ProfileCategory, number>();
  let total = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) {
    if (windowed && !inWindow(i)) continue;
    const classified = nodes.get(samples[i]!) ?? { self: 'other', inclusive: [] };
    total++;
    first = Math.min(first, times[i]!);
    last = Math.max(last, times[i]!);
    self.set(classified.self, (self.get(classified.self) ?? 0) + 1);
    for (const category of classified.inclusive) inclusive.set(category, (inclusive.get(category) ?? 0) + 1);
  }
  const percent = (value: number | undefined): number => (total > 0 ? (100 * (value ?? 0)) / total : 0);
  return {
    samples: total, ms: total > 0 ? (last - first) / 1000 : 0, windowed,
    shares: PROFILE_CATEGORIES.map((category) => ({
      category, selfPercent: percent(self.get(category)),
      // A category that is only ever self (pseudo-frames, 'other') is inclusive of itself.
      inclusivePercent: percent(Math.max(inclusive.get(category) ?? 0, self.get(category) ?? 0)),
    })),
  };
}
