import test from 'ava';
import { detectLaunch } from '../../../core/comm/launch-env.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';

test('no launcher variables: null', (t) => {
  t.is(detectLaunch({}), null);
  t.is(detectLaunch({ PATH: '/usr/bin' }), null);
});

test('each launcher flavour is recognised', (t) => {
  t.deepEqual(detectLaunch({ HPCKV_RANK: '2', HPCKV_SIZE: '4' }), { rank: 2, size: 4, launcher: 'hpckv' });
  t.deepEqual(detectLaunch({ OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '8' }), { rank: 0, size: 8, launcher: 'openmpi' });
  t.deepEqual(detectLaunch({ PMI_RANK: '7', PMI_SIZE: '8' }), { rank: 7, size: 8, launcher: 'pmi' });
  t.deepEqual(detectLaunch({ SLURM_PROCID: '3', SLURM_NTASKS: '16' }), { rank: 3, size: 16, launcher: 'slurm' });
});

test('the first flavour found wins: hpckv, Open MPI, PMI, Slurm', (t) => {
  const all = {
    HPCKV_RANK: '1', HPCKV_SIZE: '2',
    OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '4',
    PMI_RANK: '5', PMI_SIZE: '6',
    SLURM_PROCID: '7', SLURM_NTASKS: '8',
  };
  t.is(detectLaunch(all)?.launcher, 'hpckv');
  const { HPCKV_RANK: _r, HPCKV_SIZE: _s, ...noHpckv } = all;
  t.deepEqual(detectLaunch(noHpckv), { rank: 3, size: 4, launcher: 'openmpi' });
  const { OMPI_COMM_WORLD_RANK: _or, OMPI_COMM_WORLD_SIZE: _os, ...pmiAndSlurm } = noHpckv;
  t.deepEqual(detectLaunch(pmiAndSlurm), { rank: 5, size: 6, launcher: 'pmi' });
});

test('a size without a rank is not a launch (an salloc shell sets SLURM_NTASKS alone)', (t) => {
  t.is(detectLaunch({ SLURM_NTASKS: '4' }), null);
  t.deepEqual(detectLaunch({ SLURM_NTASKS: '4', PMI_RANK: '1', PMI_SIZE: '2' }), { rank: 1, size: 2, launcher: 'pmi' });
});

const malformed: Array<[string, Record<string, string>, string[]]> = [
  ['a non-integer rank', { HPCKV_RANK: 'one', HPCKV_SIZE: '4' }, ['HPCKV_RANK', 'HPCKV_SIZE']],
  ['a fractional size', { OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '2.5' }, ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE']],
  ['a negative rank', { PMI_RANK: '-1', PMI_SIZE: '4' }, ['PMI_RANK', 'PMI_SIZE']],
  ['rank equal to size', { SLURM_PROCID: '4', SLURM_NTASKS: '4' }, ['SLURM_PROCID', 'SLURM_NTASKS']],
  ['size zero', { HPCKV_RANK: '0', HPCKV_SIZE: '0' }, ['HPCKV_RANK', 'HPCKV_SIZE']],
  ['a rank without its size', { HPCKV_RANK: '0' }, ['HPCKV_RANK', 'HPCKV_SIZE']],
];

for (const [what, env, names] of malformed) {
  test(`${what} is HPCKV_ERR_BAD_CONFIG naming the variables`, (t) => {
    const error = t.throws(() => detectLaunch(env), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_CONFIG);
    for (const name of names) t.true(error!.message.includes(name), `message names ${name}: ${error!.message}`);
  });
}

test('an empty rank variable counts as unset (how a parent process clears one)', (t) => {
  t.is(detectLaunch({ HPCKV_RANK: '', HPCKV_SIZE: '2' }), null);
  t.deepEqual(detectLaunch({ HPCKV_RANK: '', OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' }), { rank: 1, size: 2, launcher: 'openmpi' });
});
