import test from 'ava';
import { resumeAfter } from '../../../core/protocol/resume-after.js';

test('a paged read resumes strictly after its last key, keeping the other bound and leaving the caller\'s bounds alone', (t) => {
  const bounds = { gte: 'a', lte: 'z' };
  t.deepEqual(resumeAfter(bounds, 'k'), { gt: 'k', lte: 'z' });
  t.deepEqual(resumeAfter(bounds, 'k', true), { gte: 'a', lt: 'k' });
  t.deepEqual(bounds, { gte: 'a', lte: 'z' });
  t.deepEqual(resumeAfter({ gt: 'c' }, 'd'), { gt: 'd' });
  t.deepEqual(resumeAfter({}, 'd', true), { lt: 'd' });
});
