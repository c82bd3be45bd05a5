// lint-kmod: static check of an x86_64 or AArch64 kernel module (.ko) for calls that are unsafe in the context
// its probe/NMI/ftrace handlers run in. For the CLI:
//   const r = await lintKmod(path, { assume });   // throws InputError (one line) on bad input
//   --json: JSON.stringify(r)   text: renderLintText(r)   --sarif: JSON.stringify(renderLintSarif(r))
//   process.exitCode = lintExitCode(r)            // 1 when a hazard (mitigated or not) was found
export { lintKmod, lintKmodBytes, lintExitCode, type LintOptions } from './lint.js';
export { renderLintText } from './render.js';
export { renderLintSarif, type SarifLog } from './sarif.js';
export type { LintFinding, LintResult, LintVariant, Mitigation, Handler, HandlerContext, HandlerKind } from './model.js';
