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
    process.stderr.write(`ktriage: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
