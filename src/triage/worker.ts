// worker_threads entry of `ktriage triage`: analyses one input per message, one at a time, and
// posts the line back. Memory is bounded by the resourceLimits the pool starts it with; a crash or
// an out-of-memory kill is seen by the pool, which writes the error line and starts a new worker.
import { parentPort } from 'node:worker_threads';
import { analyzeOne } from './analyze-one.js';

export interface WorkRequest { id: number; input: string }

const port = parentPort;
if (!port) throw new Error('worker.ts runs inside a worker thread');
port.on('message', (m: WorkRequest) => {
  void analyzeOne(m.input).then((r) => port.postMessage({ id: m.id, ...r }));
});
