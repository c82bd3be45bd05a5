/**
 * Index of the first of the entries equal to the greatest value <= `x` in an ascending array
 * (aliases at one address: the kernel's get_symbol_pos() picks the first); -1 when x < a[0].
 */
export function firstAtOrBelow(a: BigUint64Array, x: bigint): number {
  if (a.length === 0 || x < a[0]) return -1;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  while (lo > 0 && a[lo - 1] === a[lo]) lo--;
  return lo;
}
