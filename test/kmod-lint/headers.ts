// Which kernel headers the module tests build against: those of the kernel that the
// linux-headers-amd64 meta-package depends on, asked of dpkg at run time (build-modules.sh does
// the same). Never "the newest installed", which changes when another kernel's headers appear,
// and never a release number written here, which Debian moves on from (6.1.0-56 became -57).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BUILD_MODULES = fileURLToPath(new URL('./build-modules.sh', import.meta.url));

export function pinnedHeaders(): string | null {
  let deps: string;
  try {
    deps = execFileSync('dpkg-query', ['-W', '-f=${Depends}', 'linux-headers-amd64'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const pkg = /(?:^|,\s*)(linux-headers-[^\s,]+)/.exec(deps)?.[1];
  const dir = pkg ? `/usr/src/${pkg}` : null;
  return dir && existsSync(`${dir}/Makefile`) ? dir : null;
}
