// The four documents of the JSON contract, as printed: the result type with `schemaVersion`.
// Declared as interfaces (not Versioned<T> intersections) so schemas/*.schema.json, generated from
// them by test/api/schemas.test.ts, come out as one flat object each.

import type { LogDiagnosis } from '../analyzers/diagnosis.js';
import type { DumpDiagnosis } from '../analyzers/dump-diagnosis.js';
import type { LintResult } from '../analyzers/kmod/model.js';
import type { PreemptDecode } from '../analyzers/preempt-count.js';
import type { SCHEMA_VERSION } from './schema-version.js';

/** `ktriage analyze <vmcore> --json`; analyzeDump(). */
export interface DumpDiagnosisDocument extends DumpDiagnosis {
  schemaVersion: typeof SCHEMA_VERSION;
}

/** `ktriage analyze <log> --json`; analyzeLog(). */
export interface LogDiagnosisDocument extends LogDiagnosis {
  schemaVersion: typeof SCHEMA_VERSION;
}

/** `ktriage explain preempt-count <value> --json`; explainPreemptCount(). */
export interface PreemptDecodeDocument extends PreemptDecode {
  schemaVersion: typeof SCHEMA_VERSION;
}

/** `ktriage lint-kmod <module.ko> --json`; lintKmod(). */
export interface LintResultDocument extends LintResult {
  schemaVersion: typeof SCHEMA_VERSION;
}
