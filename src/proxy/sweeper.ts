// One coarse, unref'd interval for the proxy's idle and header timeouts, instead of a timer per connection or request.

const tasks = new Set<(now: number) => void>();
let timer: NodeJS.Timeout | undefined;

/** Resolution of sweep-based timeouts: a connection may outlive its timeout by up to this much. */
export const SWEEP_MS = 250;

function run(): void {
  const now = Date.now();
  for (const t of tasks) t(now);
}

/** Runs `task` every SWEEP_MS until the returned function is called. */
export function addSweep(task: (now: number) => void): () => void {
  tasks.add(task);
  if (!timer) {
    timer = setInterval(run, SWEEP_MS);
    timer.unref();
  }
  return () => {
    tasks.delete(task);
    if (tasks.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
