// The CA's authenticator on Kubernetes (Istio's third-party-jwt policy): a proxy sends its pod's projected
// service-account token (audience istio-ca); the API server's TokenReview says whether it is valid and for that
// audience, and whose it is (system:serviceaccount:<namespace>:<name>), which becomes the certificate's identity.

import type { Identity } from '../../ca/ca.js';
import type { Authenticator } from '../../ca/token.js';
import type { KubeClient } from '../client/kube-client.js';

/** The audience Istio's sidecars request their CA tokens for. */
export const CA_AUDIENCE = 'istio-ca';
const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

interface TokenReview {
  status?: { authenticated?: boolean; user?: { username?: string }; audiences?: string[]; error?: string };
}

export class TokenReviewAuthenticator implements Authenticator {
  constructor(
    private readonly client: KubeClient,
    private readonly o: { trustDomain?: string; audiences?: string[] } = {},
  ) {}

  async authenticate(token: string | undefined): Promise<Identity | Error> {
    if (!token) return new Error('no token: send "authorization: Bearer <service account token>"');
    const audiences = this.o.audiences ?? [CA_AUDIENCE];
    let review: TokenReview;
    try {
      review = await this.client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } });
    } catch (err) {
      return new Error(`the token could not be reviewed: ${(err as Error).message}`);
    }
    const status = review.status ?? {};
    if (!status.authenticated) return new Error(`the API server did not authenticate the token${status.error ? `: ${status.error}` : ''}`);
    // An API server that ignores audiences answers without them; only a token for the CA's audience is accepted.
    if (!status.audiences?.some((a) => audiences.includes(a))) return new Error(`the token is not for audience ${audiences.join(', ')}`);
    const m = SERVICE_ACCOUNT_USER.exec(status.user?.username ?? '');
    if (!m) return new Error(`the token belongs to ${status.user?.username ?? 'nobody'}, not a service account`);
    return { trustDomain: this.o.trustDomain ?? 'cluster.local', namespace: m[1]!, serviceAccount: m[2]! };
  }
}
