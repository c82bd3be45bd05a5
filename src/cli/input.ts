// Reading user input safely: never write to it, bound what is read, classify dump vs log.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../util/errors.js';

export type InputKind = 'elf-core' | 'kdump-compressed' | 'makedumpfile-flattened' | 'log';

const LOG_FULL_LIMIT = 32 * 1024 * 1024;
const LOG_PART = 16 * 1024 * 1024;
const STDIN_LIMIT = 64 * 1024 * 1024;

export function classifyHeader(head: Buffer): InputKind {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return 'elf-core';
  const sig = head.subarray(0, 12).toString('latin1');
  if (sig.startsWith('KDUMP   ') || sig.startsWith('DISKDUMP')) return 'kdump-compressed';
  if (sig === 'makedumpfile') return 'makedumpfile-flattened';
  return 'log';
}

export function sniffFile(path: string): { kind: InputKind; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError(`${path} is a directory, not a log or a dump`);
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return { kind: classifyHeader(head.subarray(0, n)), size: st.size };
  } finally {
    closeSync(fd);
  }
}

export interface LogText { text: string; notes: string[]; bytes: number }

/**
 * Binary, not a log: many control bytes among the non-NUL bytes of the sample. NUL runs alone do
 * not make a log binary: syslog files written during a crash often hold blocks of NULs.
 */
function looksBinary(buf: Buffer): boolean {
  const sample = buf.subarray(0, 65536);
  let text = 0;
  let control = 0;
  for (const b of sample) {
    if (b === 0) continue;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x1b) control++;
    else text++;
  }
  return control > 0 && control / (control + text) > 0.05;
}

function decode(buf: Buffer): string {
  // Invalid UTF-8 becomes U+FFFD; the parser sees text, never throws on encoding. NUL runs
  // (holes in crash-time syslog files) become line breaks.
  return new TextDecoder('utf-8', { fatal: false }).decode(buf).replace(/\0+/g, '\n');
}

export function readLogFile(path: string): LogText {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const notes: string[] = [];
    let buf: Buffer;
    if (size <= LOG_FULL_LIMIT) {
      buf = Buffer.alloc(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, buf, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      buf = buf.subarray(0, off);
    } else {
      // Bounded memory on huge logs: the first and the last 16 MiB hold the first report and the
      // final panic in practice; say what was skipped.
      const head = Buffer.alloc(LOG_PART);
      const tail = Buffer.alloc(LOG_PART);
      readSync(fd, head, 0, LOG_PART, 0);
      readSync(fd, tail, 0, LOG_PART, size - LOG_PART);
      buf = Buffer.concat([head, Buffer.from('\n'), tail]);
      notes.push(`input is ${(size / 1048576).toFixed(0)} MiB: analysed the first and the last 16 MiB, skipped ${((size - 2 * LOG_PART) / 1048576).toFixed(0)} MiB in between`);
    }
    if (looksBinary(buf)) throw new InputError(`${path}: binary data that is not a known dump format (ELF core, kdump-compressed) nor a text log`);
    return { text: decode(buf), notes, bytes: size };
  } finally {
    closeSync(fd);
  }
}

export async function readStdin(): Promise<LogText> {
  const chunks: Buffer[] = [];
  let total = 0;
  let dropped = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    if (total + b.length > STDIN_LIMIT) {
      dropped += b.length;
      continue;
    }
    chunks.push(b);
    total += b.length;
  }
  const buf = Buffer.concat(chunks);
  const notes = dropped ? [`stdin was longer than 64 MiB: ignored the last ${(dropped / 1048576).toFixed(0)} MiB`] : [];
  if (classifyHeader(buf.subarray(0, 16)) !== 'log') throw new InputError('stdin holds a dump: pass dumps as a file path (ktriage needs random access)');
  if (looksBinary(buf)) throw new InputError('stdin: binary data, not a text log');
  return { text: decode(buf), notes, bytes: total + dropped };
}
