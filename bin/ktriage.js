#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ and bundled into dist/bundle/ by `npm run build`
// (also the prepare script of `npm ci` and `npm pack`; scripts/bundle.mjs).
//
// CommonJS on purpose (bin/package.json): Node sets up its ES module loader only when something
// is imported, so `--version` answers from here without it, at the cost of a bare `node`
// (`npm run bench start`); every other command requires dist/bundle/main.js (the CommonJS bundle
// of dist/cli/main.js: no ES module loader either), which loads a command's code only when that
// command runs.
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

function reportRusage() {
  if (process.env.KTRIAGE_RUSAGE_FILE) {
    const u = process.resourceUsage();
    // Used by `npm run bench` to read this process's peak RSS.
    writeFileSync(process.env.KTRIAGE_RUSAGE_FILE, JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  }
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The same answer as commander's .version() in main.ts (test/cli/startup.test.ts checks both).
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
  reportRusage();
} else {
  Promise.resolve()
    .then(() => require('../dist/bundle/main.js').main(process.argv))
    .then(
      (code) => {
        reportRusage();
        process.exitCode = code;
      },
      (err) => {
        // main() reports every error of a command itself; reaching this is a bug (exit 3, as main's).
        process.stderr.write(`ktriage: internal error (a bug in ktriage, please report it with the command line): ${err instanceof Error ? err.message : String(err)}\n`);
        if (process.argv.includes('--debug') || process.env.KTRIAGE_DEBUG === '1') process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
        process.exitCode = 3;
      },
    );
}
