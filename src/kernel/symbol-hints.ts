// What to tell a user whose dump gave no symbols. Debian's /boot/System.map-<release> is a one-line
// stub ("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package"), so
// pointing at it sends the user in a circle; the real files come with the -dbg package under
// /usr/lib/debug/boot/.

import fs from 'node:fs';

const STUB = /^\s*f{16}\s+\S\s+The real System\.map is in the (\S+) package/;

/** The package a Debian stub System.map names, or undefined when the text is not the stub. */
export function debianStubPackage(text: string): string | undefined {
  return STUB.exec(text)?.[1];
}

/** Is the file at `path` Debian's stub? Reads only its first bytes; unreadable counts as no. */
function isDebianStubFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const b = Buffer.alloc(256);
    const n = fs.readSync(fd, b, 0, b.length, 0);
    return debianStubPackage(b.toString('latin1', 0, n)) !== undefined;
  } catch {
    // Broad on purpose: any fs failure (missing, permissions, a directory) means "not the stub".
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface HintFs {
  exists(path: string): boolean;
  isStub(path: string): boolean;
}

const realFs: HintFs = { exists: (p) => fs.existsSync(p), isStub: isDebianStubFile };

/** The symbol files to suggest for this release, as a sentence starting with "Give". */
export function symbolFileHint(release: string | undefined, f: HintFs = realFs): string {
  const rel = release ?? '<release>';
  const dbgMap = `/usr/lib/debug/boot/System.map-${rel}`;
  const dbgVmlinux = `/usr/lib/debug/boot/vmlinux-${rel}`;
  const bootMap = `/boot/System.map-${rel}`;
  const installed = release !== undefined && (f.exists(dbgMap) || f.exists(dbgVmlinux));
  const parts = [`--system-map ${dbgMap}`, `--vmlinux ${dbgVmlinux}`];
  // /boot's map is worth naming only when it is a real one (not Debian's stub).
  if (release !== undefined && f.exists(bootMap) && !f.isStub(bootMap)) parts.unshift(`--system-map ${bootMap}`);
  return `Give ${parts.join(' or ')}${installed ? '' : ` (from the linux-image-${rel}-dbg package; Debian's /boot/System.map is a stub)`}`;
}

/** Message for a System.map that turned out to be Debian's stub. */
export function stubSystemMapMessage(file: string, text: string, release: string | undefined): string | undefined {
  const pkg = debianStubPackage(text);
  if (!pkg) return undefined;
  const rel = release ?? /^linux-image-(.+)-dbg$/.exec(pkg)?.[1] ?? '<release>';
  return `${file} is Debian's stub, not a System.map: the real one is /usr/lib/debug/boot/System.map-${rel} from the linux-image-${rel}-dbg package (or pass --vmlinux /usr/lib/debug/boot/vmlinux-${rel} from the same package)`;
}
