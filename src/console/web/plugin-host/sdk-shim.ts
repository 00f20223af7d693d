// The part of @openshift-console/dynamic-plugin-sdk that the plugin uses, as the test host provides it in place of
// the OpenShift console (which implements the SDK's runtime API itself; the npm package holds only its types).

import { useState } from 'react';

/** The console's fetch: it throws on an error status, with the response attached (as the SDK's HttpError). */
export async function consoleFetch(url: string, options: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, options);
  if (!res.ok) throw Object.assign(new Error(`${res.status} ${res.statusText}`), { response: res });
  return res;
}

export async function consoleFetchJSON(url: string, method = 'GET', options: RequestInit = {}): Promise<unknown> {
  return (await consoleFetch(url, { ...options, method })).json();
}

/** The namespace the console's project picker shows. */
export function useActiveNamespace(): [string, (ns: string) => void] {
  return useState(new URLSearchParams(window.location.search).get('activeNamespace') ?? 'default');
}
