// What else the machine is doing while the benchmark runs: CPU time of the whole machine and of this benchmark's own
// process tree (load generators, backends and proxies included), read from /proc, so a timed run can say how much
// other work shared its CPUs (verdict.mjs otherWork), and the load average for the report's header.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { processTree } from './proc.mjs';

const TICKS = 100; // USER_HZ on Linux

/** Busy CPU-seconds of the whole machine, every CPU summed (user, nice, system, irq, softirq, steal). */
function machineBusy() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / TICKS;
}

/** CPU-seconds of this process and its live descendants, with what each has reaped from exited children. */
function oursBusy() {
  let ticks = 0;
  for (const pid of processTree(process.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    } catch {
      /* exited meanwhile: its time is in its parent's cutime */
    }
  }
  return ticks / TICKS;
}

/** A point to measure other work from: { at (s), machine, ours } (see verdict.mjs otherWork). */
export function cpuSnapshot() {
  return { at: performance.now() / 1000, machine: machineBusy(), ours: oursBusy() };
}

/** "load average 1.20 0.95 0.80 on 2 CPUs". */
export function loadLine() {
  return `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`;
}
