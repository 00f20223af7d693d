// Requests that tell which reviews version served Bookinfo's productpage, for the tests that change its routing.

/** Which reviews version answered one productpage API call through the ingress (`error <status>` when it failed). */
export async function reviewsVersion(ingressUrl: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${ingressUrl}/api/v1/products/0/reviews`, { headers });
  const text = await res.text();
  if (res.status !== 200) return `error ${res.status}`;
  const body = JSON.parse(text) as { podname?: string };
  return /^reviews-(v\d)/.exec(body.podname ?? '')?.[1] ?? `unknown ${text.slice(0, 80)}`;
}

/** How many of `n` calls each version (or error) answered. */
export async function reviewsShares(ingressUrl: string, n: number, headers?: Record<string, string>): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = await reviewsVersion(ingressUrl, headers);
    seen[v] = (seen[v] ?? 0) + 1;
  }
  return seen;
}
