/**
 * Worker-thread entry for call-runner: streams the calls it is sent and
 * posts their windows back (buffers transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { runCallJob, type CallJob, type RunOptions } from './call-runner.js';

const port = parentPort;
if (!port) throw new Error('call-worker must run in a worker thread');

port.on('message', (msg: { type: 'job'; index: number; job: CallJob; options: RunOptions }) => {
  if (msg.type !== 'job') return;
  runCallJob(msg.job, msg.index, msg.options, (seconds) => port.postMessage({ type: 'progress', seconds })).then(
    (result) => {
      const buffers = [
        result.values.buffer,
        result.clipIndex.buffer,
        result.share.buffer,
        result.labelShare.buffer,
        result.startSample.buffer,
        result.endSample.buffer,
        result.speechRatio.buffer,
      ] as ArrayBuffer[];
      port.postMessage({ type: 'result', result }, buffers);
    },
    (err: unknown) => {
      const e = err as Error;
      port.postMessage({ type: 'error', error: `${msg.job.plan.id}: ${e.stack ?? e.message ?? String(err)}` });
    },
  );
});
