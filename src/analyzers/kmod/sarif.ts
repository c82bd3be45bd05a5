// SARIF 2.1.0 for lint-kmod, so code-scanning UIs can show the findings: the module file is the
// artifact (the call instruction as a byte region), function symbols are logical locations, and
// the path from the handler is a code flow.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UNSAFE_CALLS } from '../unsafe-calls.js';
import type { LintResult } from './model.js';

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: unknown[];
}

export function renderLintSarif(r: LintResult, toolVersion = '0.1.0'): SarifLog {
  const uri = isAbsolute(r.file) ? pathToFileURL(r.file).href : r.file.split('\\').join('/');
  const ruleIds = [...new Set(UNSAFE_CALLS.map((u) => u.id))];
  const rules = ruleIds.map((id) => {
    const entries = UNSAFE_CALLS.filter((u) => u.id === id);
    return {
      id,
      name: id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
      shortDescription: { text: `Unsafe in probe/NMI handlers: ${entries.map((e) => e.title).join(', ')}` },
      fullDescription: { text: entries[0].why },
      help: { text: entries.map((e) => e.fix).join(' ') },
      defaultConfiguration: { level: entries[0].severity.nmi === 'none' ? 'note' : entries[0].severity.nmi },
      properties: { category: entries.map((e) => e.category) },
    };
  });
  const logical: { name: string; fullyQualifiedName: string; kind: string }[] = [];
  const logicalIndex = (name: string): number => {
    let i = logical.findIndex((l) => l.name === name);
    if (i < 0) {
      logical.push({ name, fullyQualifiedName: `${r.module.name ?? 'module'}!${name}`, kind: 'function' });
      i = logical.length - 1;
    }
    return i;
  };
  const results = r.findings.map((f) => {
    const idx = logicalIndex(f.callSite.function);
    const flow = f.path.map((fn, k) => ({
      location: {
        logicalLocations: [k < f.path.length - 1 ? { name: fn, index: logicalIndex(fn), kind: 'function' } : { name: fn, kind: 'function' }],
        message: { text: k === 0 ? `${fn}: ${f.handler.kind} handler (${f.handler.context}, ${f.handler.mechanism})` : k === f.path.length - 1 ? `${fn}(): unsafe (${f.ruleId})` : `${fn}` },
      },
    }));
    return {
      ruleId: f.ruleId,
      ruleIndex: ruleIds.indexOf(f.ruleId),
      level: f.severity,
      kind: f.status === 'note' ? 'informational' : 'fail',
      message: { text: `${f.message}. ${f.mitigation ? `Mitigation in the module: ${f.mitigation.summary}; it does not cover: ${f.mitigation.doesNotMitigate} ` : ''}Fix: ${f.fix}` },
      locations: [{
        physicalLocation: { artifactLocation: { uri, index: 0 }, region: { byteOffset: f.callSite.fileOffset, byteLength: f.callSite.length } },
        logicalLocations: [{ name: f.callSite.function, index: idx, fullyQualifiedName: logical[idx].fullyQualifiedName, kind: 'function' }],
      }],
      codeFlows: [{ threadFlows: [{ locations: flow }] }],
      partialFingerprints: { 'ktriagePath/v1': `${f.ruleId}:${f.path.join('>')}` },
      properties: { status: f.status, path: f.path, sourcePath: f.sourcePath, context: f.handler.context, mechanism: f.handler.mechanism, gfp: f.gfp, conditions: f.conditions, why: f.why, mitigation: f.mitigation },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'ktriage lint-kmod', version: toolVersion, rules } },
      artifacts: [{ location: { uri }, roles: ['analysisTarget'], mimeType: 'application/x-elf' }],
      logicalLocations: logical,
      results,
      properties: { module: r.module, handlers: r.handlers, variants: r.variants, limits: r.limits, layoutNote: r.layoutNote },
    }],
  };
}
