/**
 * Worker-thread entry for `--threads K`: runs one CallDriver on its share of
 * the calls. Messages in: {type:'run', startAtMs}, {type:'finish'}; out:
 * {type:'ready'}, {type:'stopped'}, {type:'results', results}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CallDriver, type DrivePlan } from './call-driver.js';

const port = parentPort;
if (port) {
  const driver = new CallDriver(workerData as DrivePlan);
  port.on('message', (msg: { type: string; startAtMs?: number }) => {
    if (msg.type === 'run') {
      void driver.run(msg.startAtMs ?? 0).then(() => port.postMessage({ type: 'stopped' }));
    } else if (msg.type === 'finish') {
      const results = driver.finish();
      port.postMessage({ type: 'results', results }, results.map((r) => r.sendTimes.buffer as ArrayBuffer));
    }
  });
  void driver.prepare().then(() => port.postMessage({ type: 'ready' }));
}
