import { decodePreemptCount, isPreemptRtString, parsePreemptValue, type RtContext } from '../../analyzers/preempt-count.js';
import { InputError } from '../../util/errors.js';
import { renderPreemptText } from '../render/explain-render.js';
import { toJson } from '../render/json.js';

export interface ExplainOptions { arch: string; kernel?: string; json?: boolean; softirqDisableCnt?: string }

export function explainPreemptCount(value: string, opts: ExplainOptions): { text: string; code: number } {
  if (opts.arch !== 'x86_64' && opts.arch !== 'arm64') throw new InputError(`unknown --arch ${JSON.stringify(opts.arch)} (x86_64 or arm64)`);
  const arch = opts.arch;
  const raw = parsePreemptValue(value, arch);
  let rt: RtContext | null = null;
  if (opts.softirqDisableCnt !== undefined) {
    const t = opts.softirqDisableCnt.trim();
    if (!/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(t) || Number(t) > 0xffffffff) throw new InputError(`--softirq-disable-cnt wants a 32-bit value (hex 0x... or decimal), got ${JSON.stringify(t.slice(0, 20))}`);
    rt = {
      detectedBy: isPreemptRtString(opts.kernel) ? `release ${opts.kernel} names a PREEMPT_RT build` : '--softirq-disable-cnt given (only PREEMPT_RT kernels have it)',
      softirqDisableCnt: Number(t),
      source: 'task_struct.softirq_disable_cnt from --softirq-disable-cnt',
    };
  }
  const d = decodePreemptCount(raw, arch, opts.kernel ?? null, rt);
  return { text: opts.json ? toJson(d) : renderPreemptText(d), code: 0 };
}
