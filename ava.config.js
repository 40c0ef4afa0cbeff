// Tests run against the compiled output (npm test builds first). Child processes, not worker
// threads, because servers and isolated-vm need a real process started with --no-node-snapshot.
export default {
  files: ['dist/test/**/*.test.js'],
  workerThreads: false,
  nodeArguments: ['--no-node-snapshot', '--enable-source-maps'],
  concurrency: 2,
  timeout: '120s',
  verbose: true,
};
