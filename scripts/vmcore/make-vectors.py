#!/usr/bin/python3
"""Write the small compressed-page test vectors used by test/vmcore (committed under
test/vmcore/vectors/). Run once with Debian's python3-lzo, python3-snappy, python3-zstandard:

    /usr/bin/python3 scripts/vmcore/make-vectors.py test/vmcore/vectors

Each page N (4096 bytes) is written raw as pageN.bin and compressed the way makedumpfile does it:
LZO1X-1 without liblzo's header (lzo1x_1_compress), snappy raw format (snappy_compress),
zstd frame (ZSTD_compress). big.* are an 8192-byte input, used to test that a page that
expands beyond the block size is refused."""
import os
import random
import sys

import lzo
import snappy
import zstandard

out = sys.argv[1] if len(sys.argv) > 1 else 'test/vmcore/vectors'
os.makedirs(out, exist_ok=True)
rng = random.Random(4)
pages = [
    (b'kernel page %d: the quick brown fox jumps over the lazy dog\n' * 100)[:4096],
    bytes(rng.randrange(256) for _ in range(4096)),  # incompressible
    bytes(4096),  # zero page
    bytes((i * 7 + (i >> 9)) & 0xff for i in range(4096)),  # long matches, far distances
]
pages[0] = bytes(b if i % 97 else (i & 0xff) for i, b in enumerate(pages[0]))
# A page mixing literals and matches at distances above 2 KiB (exercises every LZO opcode class).
mix = bytearray()
while len(mix) < 4096:
    chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    mix += chunk
    if len(mix) > 3000:
        mix += mix[rng.randrange(0, 200):][: rng.randrange(3, 300)]
    elif len(mix) > 64:
        start = rng.randrange(0, len(mix) - 3)
        mix += mix[start:start + rng.randrange(2, 64)]
pages.append(bytes(mix[:4096]))

def write(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)

for i, p in enumerate(pages):
    assert len(p) == 4096
    write(f'page{i}.bin', p)
    write(f'page{i}.lzo', lzo.compress(p, 1, False))
    write(f'page{i}.snappy', snappy.compress(p))
    write(f'page{i}.zst', zstandard.ZstdCompressor(level=3).compress(p))
big = pages[0] + pages[3]
write('big.lzo', lzo.compress(big, 1, False))
write('big.snappy', snappy.compress(big))
write('big.zst', zstandard.ZstdCompressor(level=3, write_content_size=True).compress(big))
print('wrote', len(pages), 'pages to', out)
