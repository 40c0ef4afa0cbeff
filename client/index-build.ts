/**
 * Backfill of a secondary index: the records already stored in its primary database, scanned
 * page by page and indexed with the caller's extractor. Each record is indexed only while it is
 * still the value that was read (an indexed write with `ifStored`), so a record written since
 * stands and is counted as skipped. Apart from the lookups and the writes it builds on.
 */
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { callOptions } from './core/call-options.js';
import type { IndexLayout } from './index-layout.js';
import type { BuildOptions, BuildProgress, KeyExtractor } from './index-types.js';
import { writeIndexedRecord } from './index-writes.js';
import { MergedScan } from './merged-scan.js';

const EMPTY = Buffer.alloc(0);

/** Indexes the stored records of the index's primary database (see `SecondaryIndex.build`). */
export async function buildIndex(layout: IndexLayout, extract: KeyExtractor, options: BuildOptions): Promise<BuildProgress> {
  const { primaryDb, indexDb } = layout.definition;
  layout.checkDb(options);
  if (typeof extract !== 'function') throw new TypeError('build needs an extractor (key, value) => secondaryKeys[]');
  if (primaryDb === indexDb) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, `index "${layout.name}" shares database "${primaryDb}" with its records: build cannot tell them apart`,
      { details: { db: primaryDb, index: layout.name } });
  }
  const host = layout.host;
  const pageEntries = Math.min(options.pageEntries ?? 256, host.limits.scanPageEntriesMax);
  if (!Number.isSafeInteger(pageEntries) || pageEntries < 1) throw new RangeError('pageEntries must be an integer >= 1');
  const call = callOptions(options);
  const scan = new MergedScan((rank, request) => host.call(rank, 'scan', { db: primaryDb, ...request }, call), {
    range: {}, reverse: false, values: true, limit: Number.POSITIVE_INFINITY, ranks: host.router.ranks,
    planner: () => undefined, firstPageEntries: pageEntries, pageEntries,
    toEntry: (key, value): [Buffer, Buffer] => [key, value ?? EMPTY], encodeKey: (key) => key as Uint8Array,
  });
  const progress: BuildProgress = { scanned: 0, indexed: 0, skipped: 0 };
  try {
    for (;;) {
      const page = await scan.nextv(pageEntries);
      if (page.length === 0) return progress;
      const applied = await Promise.all(page.map(async ([pk, value]) => {
        const secondaryKeys = await extract(host.decodeKey(pk), value);
        // One index of the record's own database: the checks of an indexed write's parts hold.
        return writeIndexedRecord(host, primaryDb, pk, value, [{ layout, secondaryKeys }], options, true);
      }));
      progress.scanned += page.length;
      for (const done of applied) { if (done) progress.indexed++; else progress.skipped++; }
      options.onProgress?.({ ...progress });
    }
  } finally {
    await scan.close();
  }
}
