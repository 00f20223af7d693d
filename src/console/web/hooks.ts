// Data loading for pages: fetch, refetch on an interval, keep the last good answer while reloading.

import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

/** Loads `fetcher()` whenever `deps` change, and every `intervalMs` when given (0: no polling). */
export function useData<T>(fetcher: () => Promise<T>, deps: readonly unknown[], intervalMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fetcher().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: Error) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  useEffect(() => {
    if (!intervalMs) return;
    const id = window.setInterval(reload, intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs, reload]);
  return { ...state, reload };
}

/** A user action that calls the API: whether it runs, and its last failure (cleared when it runs again). */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): { busy: boolean; error?: Error; run: (...args: A) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn(...args);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return { busy, ...(error ? { error } : {}), run };
}
