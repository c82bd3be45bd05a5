import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sanitize, sanitizeLine } from '../../src/util/sanitize.js';
import { cell, codeBlock, codeSpan } from '../../src/cli/render/markdown.js';

const HOSTILE = 'bash\x1b[2J\x1b]0;pwned\x07\x1b[31mred\x9b31m\r\x08\x00\u202etxt';

describe('sanitize', () => {
  it('removes CSI, OSC, C0/C1 controls and bidi overrides, keeps text', () => {
    expect(sanitizeLine(HOSTILE)).toBe('bashred31mtxt');
    expect(sanitize('a\tb\nc')).toBe('a\tb\nc');
    expect(sanitizeLine('a\tb\nc')).toBe('a b c');
  });
  it('never lets ESC or any C0/C1 control through (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const out = sanitizeLine(s);
        return !/[\x00-\x1f\x7f-\x9f]/.test(out);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('markdown escaping', () => {
  it('a code span survives backticks in the text', () => {
    const t = 'a`b``c';
    const span = codeSpan(t);
    expect(span.startsWith('```')).toBe(true);
    expect(span.endsWith('```')).toBe(true);
    expect(span.slice(3, -3)).toBe(t);
  });
  it('a fenced block cannot be closed by the text inside it', () => {
    const block = codeBlock('x\n```\n# injected heading\n````');
    const fence = block.split('\n')[0];
    expect(fence.length).toBeGreaterThan(4);
    const inner = block.split('\n').slice(1, -1);
    expect(inner.some((l) => l.trim() === fence)).toBe(false);
  });
  it('table cells escape pipes and HTML', () => {
    expect(cell('a|b<script>')).toBe('a\\|b&lt;script&gt;');
  });
});
