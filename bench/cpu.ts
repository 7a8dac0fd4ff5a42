import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function statFields(pid: number | string): string[] | undefined {
  try {
    // Fields after "(comm) ": state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14].
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) a process has used so far; with `tree`, also its
 * live children and the children it has reaped (PostgreSQL's backends). Linux only;
 * undefined where /proc cannot tell.
 */
export function cpuSeconds(pid: number | undefined, tree = false): number | undefined {
  if (pid === undefined) return undefined;
  const own = statFields(pid);
  if (!own) return undefined;
  let ticks = Number(own[11]) + Number(own[12]);
  if (tree) {
    ticks += Number(own[13]) + Number(own[14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const child = statFields(entry);
      if (child && Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]);
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds a JVM's JIT compiler threads (`C1 CompilerThre…`, `C2 CompilerThre…`) have used so far; Linux only. */
export function compilerCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let ticks = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const fields = statFields(`${pid}/task/${task}`);
      const comm = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8');
      if (fields && /^C\d CompilerThre/.test(comm)) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface CpuMeter {
  /** CPU seconds per named process since the meter started (null where unknown). */
  stop(): Record<string, number | null>;
}

export function startCpuMeter(processes: Record<string, { pid: number | undefined; tree?: boolean }>): CpuMeter {
  const read = () => Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, cpuSeconds(p.pid, p.tree)]));
  const before = read();
  return {
    stop() {
      const after = read();
      return Object.fromEntries(
        Object.keys(processes).map((name) => {
          const a = after[name];
          const b = before[name];
          return [name, a === undefined || b === undefined ? null : Math.round((a - b) * 100) / 100];
        }),
      );
    },
  };
}
