// task_struct fields through BTF offsets (no fixed layout: task_struct changes with every config).

import type { Btf } from './btf.js';
import { onlyDumpData } from '../util/errors.js';

export interface TaskReader {
  readVirtual(vaddr: bigint, len: number): Buffer;
}

export interface TaskInfo {
  address: bigint;
  pid?: number;
  tgid?: number;
  comm?: string;
  /** task_struct.stack (base of the THREAD_SIZE stack). */
  stack?: bigint;
  /** Why fields are missing. */
  errors: string[];
}

export function readTask(mem: TaskReader, btf: Btf | undefined, task: bigint): TaskInfo {
  const info: TaskInfo = { address: task, errors: [] };
  if (!btf) {
    info.errors.push('no BTF: task_struct layout unknown');
    return info;
  }
  const field = (name: string, len: number): Buffer | undefined => {
    const off = btf.offsetOf('task_struct', name);
    if (off === undefined) {
      info.errors.push(`BTF has no task_struct.${name}`);
      return undefined;
    }
    try {
      return mem.readVirtual(task + BigInt(off), len);
    } catch (e) {
      onlyDumpData(e);
      info.errors.push(`task_struct.${name}: ${e.message}`);
      return undefined;
    }
  };
  const comm = field('comm', 16);
  if (comm) {
    const z = comm.indexOf(0);
    info.comm = comm.toString('utf8', 0, z < 0 ? 16 : z);
  }
  info.pid = field('pid', 4)?.readInt32LE(0);
  info.tgid = field('tgid', 4)?.readInt32LE(0);
  info.stack = field('stack', 8)?.readBigUInt64LE(0);
  return info;
}
