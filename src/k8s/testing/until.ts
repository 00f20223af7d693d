// Waiting for a condition with a deadline (never a sleep as synchronisation), for the Kubernetes-mode tests.

/** Resolves once `cond` holds; rejects naming `what` after `ms`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
