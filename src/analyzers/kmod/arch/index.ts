// The architecture records lint-kmod knows, by ELF e_machine.
import { InputError } from '../../../util/errors.js';
import { machineName } from '../elf.js';
import { arm64 } from './arm64.js';
import type { KmodArch } from './types.js';
import { x86_64 } from './x86_64.js';

export type { KmodArch, KmodArchName } from './types.js';

export const KMOD_ARCHES: readonly KmodArch[] = [x86_64, arm64];

/** The record for an ELF e_machine; InputError (one line) for any other machine. */
export function archForMachine(machine: number, what: string): KmodArch {
  const a = KMOD_ARCHES.find((x) => x.machine === machine);
  if (!a) throw new InputError(`${what}: ELF machine ${machine} (${machineName(machine)}) is not supported; only x86_64 (62) and AArch64 (183) kernel modules are`);
  return a;
}
