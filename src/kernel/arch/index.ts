// The record of the architecture a dump was taken on (types.ts says what a record holds).
import type { DumpFile } from '../../vmcore/types.js';
import { InputError } from '../../util/errors.js';
import type { Arch } from './types.js';
import { arm64 } from './arm64/index.js';
import { x86_64 } from './x86_64/index.js';

const RECORDS: Arch[] = [x86_64, arm64];

export function archOf(dump: Pick<DumpFile, 'arch'>): Arch {
  const name = dump.arch ?? 'x86_64';
  const a = RECORDS.find((r) => r.dumpArch === name);
  if (!a) throw new InputError(`a dump taken on ${name}: ktriage has no record for that architecture`);
  return a;
}

export type { Arch, ArchName, KernelUnwinder, PerCpuContext } from './types.js';
