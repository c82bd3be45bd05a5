// The version of ktriage's JSON contract (schemas/*.schema.json). One number for every document,
// so a consumer checks one field whatever command produced the JSON.
//
// Bump it when a field is removed, renamed, or changes type or meaning. Adding a field does not
// bump it: consumers should ignore keys they do not know (the published schemas are closed only
// so that our own tests notice a field the TypeScript types do not declare).

/** Version of the JSON documents ktriage prints and the API's result objects carry. */
export const SCHEMA_VERSION = 1 as const;

/** A document of the versioned JSON contract: `T` with `schemaVersion` as its first key. */
export type Versioned<T> = { schemaVersion: typeof SCHEMA_VERSION } & T;

/** `value` with `schemaVersion` added as its first key (a copy; `value` is not modified). */
export function versioned<T extends object>(value: T): Versioned<T> {
  return { schemaVersion: SCHEMA_VERSION, ...value };
}
