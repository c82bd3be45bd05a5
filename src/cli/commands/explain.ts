import { decodePreemptCount, parsePreemptValue, type Arch } from '../../analyzers/preempt-count.js';
import { InputError } from '../../util/errors.js';
import { renderPreemptText } from '../render/explain-render.js';
import { toJson } from '../render/json.js';

export interface ExplainOptions { arch: string; kernel?: string; json?: boolean }

export function explainPreemptCount(value: string, opts: ExplainOptions): { text: string; code: number } {
  if (opts.arch !== 'x86_64' && opts.arch !== 'arm64') throw new InputError(`unknown --arch ${JSON.stringify(opts.arch)} (x86_64 or arm64)`);
  const arch = opts.arch as Arch;
  let raw: bigint;
  try {
    raw = parsePreemptValue(value, arch);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const d = decodePreemptCount(raw, arch, opts.kernel ?? null);
  return { text: opts.json ? toJson(d) : renderPreemptText(d), code: 0 };
}
