// Where tests find their inputs, resolved from this file so that any clone, any working directory
// and any machine give the same answer: the repository's committed fixtures, and the project's
// shared data, which lives beside the repository (../shared from the repository root).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));

/**
 * A path under ../shared that a test needs. Thrown rather than skipped: a test that quietly stops
 * running when its data is missing hides the regression it exists to catch.
 */
export function sharedPath(rel: string): string {
  const p = SHARED + rel;
  if (!existsSync(p)) throw new Error(`${p} is missing: the project's shared data must sit beside the repository (../shared from its root)`);
  return p;
}
