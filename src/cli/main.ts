// The ktriage command line. Exit codes: 0 analysed and no known hazard matched, 1 a known hazard
// matched (CI can gate on it), 2 usage error or unreadable input (one line on stderr; also an
// incomplete dump nothing usable could be read from), 3 internal error, a bug in ktriage (one
// line; the stack only with --debug or KTRIAGE_DEBUG=1), 4 partial result: the dump is incomplete
// and the analysis needed some of what is missing (5 = 4 + a hazard matched).
//
// Start-up: this module and what it imports statically are loaded by every command, `--help` and
// `--version` included, so they stay small: commander and the command table. A command's own code
// (and the dump, kernel, analyzer layers behind it) is imported in its action, when it runs
// (`npm run bench` measures it against a bare `node -e ''`).
import { Command, CommanderError, Option } from 'commander';
import { InputError } from '../util/errors.js';
import { registerDumpCommands } from './commands/dump-commands.js';

const EXIT_OK = 0;
// 1 (a hazard matched) is set by the analysis commands themselves.
const EXIT_USAGE = 2;
const EXIT_INTERNAL = 3;

function out(text: string): void {
  process.stdout.write(text);
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = new Command();
  program
    .name('ktriage')
    .description('Diagnose Linux kernel crashes from vmcores and console logs')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showSuggestionAfterError(true)
    .option('--no-cache', 'do not read or write the per-kernel-build cache (~/.cache/ktriage; also KTRIAGE_NO_CACHE=1)')
    .option('--debug', 'print the stack trace of an internal error (also KTRIAGE_DEBUG=1)')
    .hook('preAction', (cmd) => {
      // The kernel layer reads the switch from the environment: one place for every command.
      if (cmd.opts<{ cache?: boolean }>().cache === false) process.env.KTRIAGE_NO_CACHE = '1';
      // Test-only: the CLI tests need a bug to see how one is reported, and a real one would be
      // fixed. Never set outside test/analyze/cli.test.ts.
      if (process.env.KTRIAGE_TEST_INTERNAL_ERROR === '1') (undefined as unknown as { bug(): void }).bug();
    });

  const explain = program.command('explain').description('explain a raw kernel value');
  explain
    .command('preempt-count <value>')
    .description('decode a preempt_count value bit by bit (hex, decimal, or negative decimal as crash prints it)')
    .addOption(new Option('--arch <arch>', 'architecture').choices(['x86_64', 'arm64']).default('x86_64'))
    .option('--kernel <release>', 'kernel release, selects the bit layout (e.g. 5.14.0-284.11.1.el9_2.x86_64)')
    .option('--softirq-disable-cnt <value>', "PREEMPT_RT: the current task's task_struct.softirq_disable_cnt (softirq state is kept there, not in the count)")
    .option('--json', 'print JSON')
    .allowUnknownOption(false)
    .action(async (value: string, opts: { arch: string; kernel?: string; json?: boolean; softirqDisableCnt?: string }) => {
      const { explainPreemptCount } = await import('./commands/explain.js');
      const r = explainPreemptCount(value, opts);
      out(r.text);
      code = r.code;
    });

  program
    .command('analyze <input>')
    .description('diagnose a console log (file, or - for stdin) or a vmcore; exit 0 no known hazard, 1 hazard matched, 2 bad input or an incomplete dump nothing usable was read from, 4 partial result (incomplete dump, the analysis needed what is missing), 5 partial + hazard')
    .option('--json', 'print JSON')
    .option('--markdown', 'print Markdown (for bug trackers)')
    .option('--system-map <file>', 'System.map for symbols (vmcore)')
    .option('--vmlinux <file>', 'vmlinux for symbols (vmcore)')
    .action(async (input: string, opts: { json?: boolean; markdown?: boolean; systemMap?: string; vmlinux?: string }) => {
      const { runAnalyze } = await import('./commands/analyze.js');
      const r = await runAnalyze(input, opts);
      out(r.text);
      code = r.code;
    });

  program
    .command('regress <dir>')
    .description('run every fixture with an expected.json under <dir> and compare with a fresh analysis')
    .option('--update', 'rewrite expected.json from the current analysis (after a human checked it)')
    .option('--checked-by <what>', 'with --update: who or what checked the new values (recorded as checkedWith)')
    .option('--junit <file>', 'write a JUnit XML report')
    .action(async (dir: string, opts: { update?: boolean; junit?: string; checkedBy?: string }) => {
      const { runRegress } = await import('./commands/regress.js');
      const r = await runRegress(dir, opts);
      out(r.text);
      code = r.code;
    });

  program
    .command('trim <dump>')
    .description('write a small ELF dump holding only the pages the analysis reads (for regression fixtures)')
    .requiredOption('-o, --output <file>', 'output file (must not exist)')
    .action(async (dump: string, opts: { output: string }) => {
      const { runTrim } = await import('./commands/trim.js');
      const r = await runTrim(dump, opts.output);
      out(r.text);
      code = r.code;
    });

  program
    .command('lint-kmod <module>')
    .description('static check of a kernel module (.ko) for calls unsafe in the context its probe/NMI/ftrace handlers run in')
    .option('--json', 'print JSON')
    .option('--sarif', 'print SARIF 2.1.0 (for code-scanning UIs)')
    .option('--assume <name=value>', 'assume a module global (e.g. a mode parameter) holds this value; repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (path: string, opts: { json?: boolean; sarif?: boolean; assume: string[] }) => {
      if (opts.json && opts.sarif) throw new InputError('choose one of --json and --sarif');
      const assume: Record<string, number> = {};
      for (const a of opts.assume) {
        const m = /^([A-Za-z_]\w*)=(-?(?:0x[0-9a-f]+|\d+))$/i.exec(a);
        if (!m) throw new InputError(`--assume wants NAME=NUMBER, got ${JSON.stringify(a.slice(0, 40))}`);
        // Number('-0x10') is NaN, though the pattern accepts it: parse the sign apart.
        const neg = m[2].startsWith('-');
        const v = Number(neg ? m[2].slice(1) : m[2]);
        if (!Number.isSafeInteger(v)) throw new InputError(`--assume ${m[1]}: ${m[2]} is too large`);
        assume[m[1]] = neg ? -v : v;
      }
      const [{ lintExitCode, lintKmod, renderLintSarif, renderLintText }, { toJson }] = await Promise.all([import('../analyzers/kmod/index.js'), import('./render/json.js')]);
      const r = await lintKmod(path, { assume });
      out(opts.sarif ? toJson(renderLintSarif(r), { versioned: false }) : opts.json ? toJson(r) : renderLintText(r));
      code = lintExitCode(r);
    });

  program
    .command('triage <inputs...>')
    .description('a batch of dumps and logs (files, directories, globs): one result per input, grouped by signature; exit 0 clean, 1 hazard, 4 some inputs failed, 5 both')
    .option('--jsonl', 'print one JSON line per input, then per group, then a summary (schemas/triage-line.schema.json)')
    .option('-j, --jobs <n>', 'worker threads (default: the core count)')
    .addOption(new Option('--group-by <key>', 'group key').choices(['signature', 'hazard', 'title', 'kernel']).default('signature'))
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--exclude <glob>', 'skip files found in directories or globs that match (name, or path when it has a /); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--worker-memory <MiB>', 'heap limit of each worker thread')
    .option('--timeout <seconds>', 'abandon an input after this long')
    .action(async (inputs: string[], opts: { jsonl?: boolean; jobs?: string; groupBy?: string; html?: string; exclude: string[]; workerMemory?: string; timeout?: string }) => {
      const { runTriage } = await import('./commands/triage.js');
      const r = await runTriage(inputs, opts);
      out(r.text);
      code = r.code;
    });

  registerDumpCommands(program, (r) => {
    out(r.text);
    code = r.code;
  });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; commander already printed its one-line error otherwise
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    // Loaded only now: it names every typed error class, hence the dump and kernel layers.
    const { errorLine, isInputError } = await import('./errors.js');
    process.stderr.write(`ktriage: ${errorLine(e)}\n`);
    if (isInputError(e)) return EXIT_USAGE;
    const debug = program.opts<{ debug?: boolean }>().debug === true || process.env.KTRIAGE_DEBUG === '1';
    if (debug) process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    return EXIT_INTERNAL;
  }
  return code;
}
