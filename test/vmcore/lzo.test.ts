import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LzoError, lzo1xDecompress } from '../../src/vmcore/lzo.js';

const V = path.join(import.meta.dirname, 'vectors');
const vec = (name: string): Buffer => fs.readFileSync(path.join(V, name));

describe('lzo1xDecompress', () => {
  for (let i = 0; i < 5; i++) {
    it(`decodes liblzo lzo1x_1 output, page ${i}`, () => {
      expect(lzo1xDecompress(vec(`page${i}.lzo`), 4096).equals(vec(`page${i}.bin`))).toBe(true);
    });
  }

  it('refuses a stream that expands beyond the page', () => {
    expect(() => lzo1xDecompress(vec('big.lzo'), 4096)).toThrow(LzoError);
  });

  it('refuses a stream that stops short of the page', () => {
    expect(() => lzo1xDecompress(vec('page0.lzo'), 8192)).toThrow(/expected 8192|overrun/);
  });

  it('refuses every truncation and never throws anything but LzoError', () => {
    const c = vec('page4.lzo');
    for (let n = 0; n < c.length; n++) {
      expect(() => lzo1xDecompress(c.subarray(0, n), 4096)).toThrow(LzoError);
    }
  });

  it('survives random corruption (bounded, LzoError or a page)', () => {
    const c = vec('page4.lzo');
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let k = 0; k < 2000; k++) {
      const d = Buffer.from(c);
      for (let j = 0; j < 3; j++) d[rnd() % d.length] = rnd() & 0xff;
      try {
        expect(lzo1xDecompress(d, 4096).length).toBe(4096);
      } catch (e) {
        expect(e).toBeInstanceOf(LzoError);
      }
    }
  });
});
