// Every CPU's current task and preempt_count in a vmcore, through ktriage's public API only
// (what a program that depends on the `ktriage` package can do):
//
//   node current-tasks.js <vmcore>      (compiled: tsc --module nodenext current-tasks.ts)
import { pathToFileURL } from 'node:url';
import { DumpReadError, explainPreemptCount, openDump, openKernel } from 'ktriage';

export async function currentTasks(vmcore: string): Promise<string> {
  const dump = await openDump(vmcore);
  try {
    const kernel = openKernel(dump);
    const panic = kernel.panicCpu.cpu;
    const lines = [`kernel ${kernel.release}, ${kernel.cpus.length} CPUs, panic CPU ${panic ?? 'unknown'}`];
    lines.push(' CPU  task               preempt_count  context');
    for (const cpu of kernel.cpus) {
      const task = kernel.currentTask(cpu);
      const who = task ? `${task.comm} (pid ${task.pid})` : '?';
      // explainPreemptCount wants the release: the NMI bits moved in 5.8.
      const pc = explainPreemptCount(kernel.preemptCount(cpu), { kernel: kernel.release });
      lines.push(`${cpu === panic ? '>' : ' '}${String(cpu).padEnd(4)} ${who.padEnd(18)} ${pc.value.padEnd(14)} ${pc.summary}`);
    }
    // A typed read through BTF, as drgn's prog['init_task'].comm. A dump cut down to the pages
    // the analysis needs (makedumpfile -d 31 keeps more) may not hold it: say so, do not guess.
    try {
      lines.push(`init_task.comm = ${JSON.stringify(kernel.object('init_task').member('comm').string())}`);
    } catch (e) {
      if (!(e instanceof DumpReadError)) throw e;
      lines.push(`init_task.comm: not in this dump (${e.message})`);
    }
    return lines.join('\n') + '\n';
  } finally {
    dump.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) {
    process.stderr.write('usage: current-tasks <vmcore>\n');
    process.exit(2);
  }
  process.stdout.write(await currentTasks(process.argv[2]));
}
