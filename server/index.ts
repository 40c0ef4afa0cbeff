import { registerServerStarter } from '../core/server-runtime.js';
import { startServerRank } from './server-rank.js';

// Importing the server layer makes this process able to host server ranks (sdsdkv personalities).
registerServerStarter(startServerRank);

export { startServerRank, type RunningServer, type ServerRankOptions } from './server-rank.js';
export { launchLocalGroup, type LaunchOptions, type LocalGroup } from './launcher.js';
export { serve, type ServeOptions } from './serve.js';
export { Provider } from './provider.js';
