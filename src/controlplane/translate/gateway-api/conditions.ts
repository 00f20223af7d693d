// Status conditions of the Gateway API as its specification names them: the condition types and reasons of
// GatewayClass, Gateway, listeners and route parents, and one constructor so every condition has the same shape.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A `metav1.Condition` without its transition time (the status module adds what Kubernetes needs). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export const condition = (type: string, ok: boolean, reason: string, message = ''): Condition => ({ type, status: ok ? 'True' : 'False', reason, message });

/** Condition types. */
export const C = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
} as const;

/** Reasons, as the specification spells them (GatewayClass, Gateway, Listener and Route conditions). */
export const R = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Pending: 'Pending',
  Invalid: 'Invalid',
  // Gateway
  ListenersNotValid: 'ListenersNotValid',
  UnsupportedAddress: 'UnsupportedAddress',
  AddressNotAssigned: 'AddressNotAssigned',
  AddressNotUsable: 'AddressNotUsable',
  // Listener
  NoConflicts: 'NoConflicts',
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  PortUnavailable: 'PortUnavailable',
  UnsupportedProtocol: 'UnsupportedProtocol',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  RefNotPermitted: 'RefNotPermitted',
  // Route parent
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  UnsupportedValue: 'UnsupportedValue',
  InvalidKind: 'InvalidKind',
  BackendNotFound: 'BackendNotFound',
} as const;

/** A failed reference and why, in the words of a ResolvedRefs reason. */
export interface RefProblem {
  reason: string;
  message: string;
}
