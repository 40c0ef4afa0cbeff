import { withLocalGroup } from '../../examples/local-group.js';
import { benchKey, benchValue } from '../bench-records.js';
import { hpckvSetup, type SuiteRow, type Transport } from './suite-row.js';

const BATCH = 1000;
const STREAMS = 4;

/** Aggregate putMany/getMany rate of `records` × `bytes` with STREAMS batches in flight on a group of `servers`. */
async function aggregate(servers: number, transport: Transport, bytes: number, records: number): Promise<{ put: number; get: number }> {
  return withLocalGroup('bench-scaling', { servers, transport }, async ({ client }) => {
    const batches = Math.ceil(records / BATCH);
    const run = async (phase: 'put' | 'get'): Promise<number> => {
      let next = 0;
      const start = process.hrtime.bigint();
      await Promise.all(Array.from({ length: STREAMS }, async () => {
        while (next < batches) {
          const b = next++;
          const keys = Array.from({ length: Math.min(BATCH, records - b * BATCH) }, (_, j) => benchKey(b * BATCH + j));
          if (phase === 'put') await client.putMany(keys.map((key, j) => [key, benchValue(b * BATCH + j, bytes)] as const));
          else if ((await client.getMany(keys)).some((v) => v === undefined)) throw new Error('scaling: a record is missing');
        }
      }));
      return records / (Number(process.hrtime.bigint() - start) / 1e9);
    };
    const put = await run('put');
    return { put, get: await run('get') };
  });
}

/**
 * Aggregate bulk throughput at 1, 2 and 4 servers, each against the 1-server figure. On a
 * machine with fewer cores than servers this measures the overhead of more servers, not scale.
 * One run of each group (rounds 1).
 */
export async function scalingRows(bytes: number, records: number, serverCounts: number[], cores: number, transport: Transport): Promise<SuiteRow[]> {
  const results = new Map<number, { put: number; get: number }>();
  for (const servers of serverCounts) results.set(servers, await aggregate(servers, transport, bytes, records));
  const one = results.get(serverCounts[0]!)!;
  const rows: SuiteRow[] = [];
  for (const phase of ['put', 'get'] as const) {
    for (const servers of serverCounts) {
      const value = results.get(servers)![phase];
      rows.push({
        id: `scaling-${phase}-${servers}s`, section: 'scaling', unit: 'records/s', higherIsBetter: true, ...hpckvSetup(servers, transport), rounds: 1, value,
        what: `aggregate ${phase === 'put' ? 'putMany' : 'getMany'} of ${bytes} B, ${STREAMS} batches in flight, ${servers} server(s) on ${cores} cores, vs ${serverCounts[0]} server`,
        anchors: [{ name: `${serverCounts[0]} server`, value: one[phase], ratio: value / one[phase] }],
      });
    }
  }
  return rows;
}
