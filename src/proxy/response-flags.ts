// Envoy's response flags (the %RESPONSE_FLAGS% short names) that the proxy sets, rendered in Envoy's order.

export type ResponseFlag =
  | 'LH' // failed local health check
  | 'UH' // no healthy upstream
  | 'UT' // upstream request timeout
  | 'LR' // connection local reset
  | 'UR' // upstream remote reset
  | 'UF' // upstream connection failure
  | 'UC' // upstream connection termination
  | 'UO' // upstream overflow (circuit breaking)
  | 'NR' // no route configured
  | 'DI' // delay injected by the fault filter
  | 'FI' // aborted by the fault filter
  | 'RL' // rate limited
  | 'UAEX' // unauthorized by an external authorization service
  | 'RLSE' // rate limit service error
  | 'DC' // downstream connection termination
  | 'URX' // upstream retry limit exceeded
  | 'SI' // stream idle timeout
  | 'IH' // invalid Envoy request headers
  | 'DPE' // downstream protocol error
  | 'UMSDR' // upstream max stream duration reached
  | 'NC' // no cluster found
  | 'DT' // downstream duration timeout
  | 'UPE'; // upstream protocol error

/** The order Envoy prints flags in when several are set. */
const ORDER: readonly ResponseFlag[] = [
  'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'NC', 'DT', 'UPE',
];

/** `UH,URX` — or `-` when no flag is set, as in Envoy's access log. */
export function formatFlags(flags: readonly ResponseFlag[]): string {
  if (flags.length === 0) return '-';
  if (flags.length === 1) return flags[0]!;
  return ORDER.filter((f) => flags.includes(f)).join(',');
}
