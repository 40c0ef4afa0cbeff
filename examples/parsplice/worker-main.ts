import { runCampaignProcess } from './campaign-process.js';
import { runWorker, type WorkerOptions } from './worker.js';

await runCampaignProcess<WorkerOptions>(runWorker);
