import test from 'ava';
import { resumeAfter } from '../../../core/protocol/resume-after.js';

const b = (text: string): Buffer => Buffer.from(text);

test('a paged read resumes strictly after its last key, keeping the other bound and leaving the caller\'s bounds alone', (t) => {
  const bounds = { gte: b('a'), lte: b('z') };
  t.deepEqual(resumeAfter(bounds, b('k')), { gt: b('k'), lte: b('z') });
  t.deepEqual(resumeAfter(bounds, b('k'), true), { gte: b('a'), lt: b('k') });
  t.deepEqual(bounds, { gte: b('a'), lte: b('z') });
  t.deepEqual(resumeAfter({ gt: b('c') }, b('d')), { gt: b('d') });
  t.deepEqual(resumeAfter({}, b('d'), true), { lt: b('d') });
});
