// snappyjs 0.7 ships no type declarations; these are the two functions it exports (index.js).
declare module 'snappyjs' {
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  const _default: { uncompress: typeof uncompress; compress: typeof compress };
  export default _default;
}
