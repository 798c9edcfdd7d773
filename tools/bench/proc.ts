// Reads /proc for the benchmark: which processes a dev server runs, and the CPU time and memory they use.
import { readFileSync, readdirSync } from "node:fs";

type Proc = { pid: number; ppid: number; comm: string };

/** After the command name, which is in parentheses and may itself hold spaces or parentheses. */
function statFields(pid: number | "self"): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return [stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), ...stat.slice(stat.lastIndexOf(")") + 2).split(" ")];
  } catch {
    return null;
  }
}

function readProcs(): Proc[] {
  const procs: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // null: the process ended while we looked.
    if (fields) procs.push({ pid: Number(entry), ppid: Number(fields[2]), comm: fields[0]! });
  }
  return procs;
}

export type TreeProcess = { pid: number; comm: string; role: "wrangler" | "proxy" | "runtime" | "other" };

/**
 * The processes under a wrangler: node (wrangler itself, which also prints every log line),
 * and two workerd: one runs wrangler's proxy Worker on the public port, the other runs the
 * user Worker. The two workerd are told apart by the public port in their command line.
 */
export function processTree(rootPid: number, publicPort: number): TreeProcess[] {
  const procs = readProcs();
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) (tree.add(p.pid), (grew = true));
  }
  return procs
    .filter((p) => tree.has(p.pid))
    .map((p) => {
      if (p.comm === "node") return { ...p, role: "wrangler" } as const;
      if (p.comm !== "workerd") return { ...p, role: "other" } as const;
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${p.pid}/cmdline`, "utf8");
      } catch {}
      return { ...p, role: cmdline.includes(`=127.0.0.1:${publicPort}\0`) ? "proxy" : "runtime" } as const;
    });
}

/** USER_HZ: the unit of every CPU time in /proc, 100 on Linux for decades. */
const TICKS_PER_SECOND = 100;
const ticksToMs = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;

/** User plus system CPU time a process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  // utime and stime are stat's fields 14 and 15.
  return f ? ticksToMs(Number(f[12]) + Number(f[13])) : 0;
}

/** This process and its finished children (wrk, once it has exited), in milliseconds. */
export function ownCpuMs(): number {
  const f = statFields("self");
  // utime, stime, cutime, cstime are stat's fields 14 to 17.
  return f ? ticksToMs(Number(f[12]) + Number(f[13]) + Number(f[14]) + Number(f[15])) : 0;
}

/** CPU time all cores have spent busy so far, in milliseconds: to see load that is not ours. */
export function machineBusyMs(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return ticksToMs(user! + nice! + system! + irq! + softirq! + steal!);
}

export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
