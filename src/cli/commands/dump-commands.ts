import type { Command } from 'commander';

export type Emit = (r: { text: string; code: number }) => void;

/** Commands that read a vmcore: info, log, percpu, sym, rd, dis, bt, regress, trim, lint-kmod. */
export function registerDumpCommands(_program: Command, _emit: Emit): void {}
