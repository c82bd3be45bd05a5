// The worker pool of `ktriage triage`. Inputs are pulled from the walker only when a worker is
// free, so a batch of any size holds at most `jobs` inputs in flight; each result is handed to the
// caller as soon as it arrives and not kept here.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SCHEMA_VERSION } from '../api/schema-version.js';
import type { OneResult } from './analyze-one.js';
import type { InputEntry } from './inputs.js';

export interface PoolOptions {
  jobs?: number;
  /** V8 old-generation limit per worker, MiB. Buffers (dump pages) live outside it. */
  memoryMb?: number;
  /** An input still running after this is abandoned (its worker terminated), ms. */
  timeoutMs?: number;
  workerFile?: string;
  /** Awaited before each input is dispatched: the caller's backpressure (a slow stdout). */
  ready?: () => Promise<void>;
}

export const DEFAULT_MEMORY_MB = 768;
export const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * The compiled worker. A Worker needs JavaScript: when this module runs from its TypeScript source
 * (vitest), the worker is the one tsc built into dist/ (test/global-setup.ts keeps dist/ current).
 */
function defaultWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/triage/worker.js' : './worker.js', import.meta.url));
}

interface Slot {
  worker: Worker;
  job: { id: number; input: string; started: number; timer: NodeJS.Timeout; done: (r: OneResult) => void } | null;
}

export async function runPool(inputs: AsyncIterable<InputEntry>, opts: PoolOptions, onResult: (r: OneResult) => void): Promise<void> {
  const jobs = Math.max(1, opts.jobs ?? availableParallelism());
  const memoryMb = opts.memoryMb ?? DEFAULT_MEMORY_MB;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const file = opts.workerFile ?? defaultWorkerFile();
  const slots: Slot[] = [];
  const idle: Slot[] = [];
  let waiter: (() => void) | null = null;
  let nextId = 0;

  const failed = (input: string, started: number, error: string): OneResult => ({ line: { schemaVersion: SCHEMA_VERSION, type: 'error', input, kind: null, error, ms: Date.now() - started } });

  const release = (slot: Slot) => {
    idle.push(slot);
    const w = waiter;
    waiter = null;
    w?.();
  };

  const finish = (slot: Slot, r: OneResult) => {
    const job = slot.job;
    if (!job) return;
    clearTimeout(job.timer);
    slot.job = null;
    job.done(r);
  };

  const start = (slot: Slot) => {
    const worker = new Worker(file, { resourceLimits: { maxOldGenerationSizeMb: memoryMb, stackSizeMb: 8 } });
    slot.worker = worker;
    worker.on('message', (m: OneResult & { id: number }) => {
      if (slot.job && slot.job.id === m.id) {
        finish(slot, { line: m.line, detail: m.detail });
        release(slot);
      }
    });
    // A worker that dies (out of memory, a crash in native code) takes its input with it: that input
    // gets an error line and a fresh worker takes the slot.
    const died = (why: string) => {
      if (slot.worker !== worker) return;
      const job = slot.job;
      if (job) finish(slot, failed(job.input, job.started, why));
      start(slot);
      if (job) release(slot);
    };
    worker.on('error', (e: Error & { code?: string }) => died(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory in the worker (limit ${memoryMb} MiB, --worker-memory)` : `worker failed: ${e.message}`));
    worker.on('exit', (code) => died(`worker exited with status ${code}`));
  };

  const run = (slot: Slot, input: string, done: (r: OneResult) => void) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      if (slot.job?.id !== id) return;
      const w = slot.worker;
      finish(slot, failed(input, slot.job.started, `timed out after ${Math.round(timeoutMs / 1000)} s (--timeout)`));
      // The analysis is synchronous in places: only terminating the thread stops it.
      start(slot);
      void w.terminate();
      release(slot);
    }, timeoutMs);
    slot.job = { id, input, started: Date.now(), timer, done };
    slot.worker.postMessage({ id, input });
  };

  const freeSlot = async (): Promise<Slot> => {
    for (;;) {
      const s = idle.pop();
      if (s) return s;
      if (slots.length < jobs) {
        const slot: Slot = { worker: null as unknown as Worker, job: null };
        slots.push(slot);
        start(slot);
        return slot;
      }
      await new Promise<void>((r) => (waiter = r));
    }
  };

  try {
    for await (const entry of inputs) {
      if ('error' in entry) {
        onResult(failed(entry.path, Date.now(), entry.error));
        continue;
      }
      if (opts.ready) await opts.ready();
      const slot = await freeSlot();
      run(slot, entry.path, onResult);
    }
    // Drain: wait until every slot is idle again.
    while (idle.length < slots.length) await new Promise<void>((r) => (waiter = r));
  } finally {
    for (const s of slots) {
      const w = s.worker;
      s.worker = null as unknown as Worker;
      await w.terminate();
    }
  }
}
