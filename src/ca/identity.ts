// A workload's SPIFFE identity, shared by the CA and the proxy's agent without loading either's dependencies.

export interface Identity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export const spiffeId = (i: Identity) => `spiffe://${i.trustDomain}/ns/${i.namespace}/sa/${i.serviceAccount}`;
