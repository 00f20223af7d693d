// A workload's SPIFFE identity, shared by the CA and the proxy's agent without loading either's dependencies.

export interface Identity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export const spiffeId = (i: Identity) => `spiffe://${i.trustDomain}/ns/${i.namespace}/sa/${i.serviceAccount}`;

/** A SPIFFE ID received over a protocol (`spiffe://<td>/ns/<ns>/sa/<sa>`), or undefined when it is not a workload's. */
export function parseSpiffeId(id: string): Identity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  return m ? { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! } : undefined;
}
