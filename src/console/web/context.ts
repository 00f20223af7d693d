// What every page needs to know about the console: its modes (view-only, Istio API) and whether Prometheus is there.

import { createContext, useContext } from 'react';
import type { Status } from './types';

export const StatusContext = createContext<Status>({ version: '', viewOnlyMode: true, istioApiEnabled: false, metricsEnabled: false, authRequired: false, authenticated: true });

export function useStatus(): Status {
  return useContext(StatusContext);
}

/** Writes are offered only when the console may write: not view-only, and the control plane's API is there. */
export function useCanWrite(): boolean {
  const s = useStatus();
  return !s.viewOnlyMode && s.istioApiEnabled;
}
