#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (prepare script).
import { writeFileSync } from 'node:fs';
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    if (process.env.KTRIAGE_RUSAGE_FILE) {
      const u = process.resourceUsage();
      // Used by `npm run bench` to read this process's peak RSS.
      writeFileSync(process.env.KTRIAGE_RUSAGE_FILE, JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
    }
    process.exitCode = code;
  },
  (err) => {
    // main() reports every error of a command itself; reaching this is a bug (exit 3, as main's).
    process.stderr.write(`ktriage: internal error (a bug in ktriage, please report it with the command line): ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.argv.includes('--debug') || process.env.KTRIAGE_DEBUG === '1') process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    process.exitCode = 3;
  },
);
