import { runCampaignProcess } from './campaign-process.js';
import { runSplicer, type SplicerOptions } from './splicer.js';

await runCampaignProcess<SplicerOptions>(runSplicer);
