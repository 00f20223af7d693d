// Istio's ambient-mode labels and the rules over them, in one place: which pods the node proxy (ztunnel) captures
// (`istio.io/dataplane-mode`), and which waypoint a service or workload sends its traffic through
// (`istio.io/use-waypoint`, a waypoint's `istio.io/waypoint-for`). The topology, the control plane's ambient
// translation, the runtime and the console all ask here.

/** On a namespace or a pod: `ambient` enrols it, `none` (on a pod) opts it out. */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
/** On a namespace, service or pod: the name of the waypoint its traffic goes through (`none`: no waypoint). */
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
/** Beside use-waypoint: the namespace of that waypoint, when it is not the object's own. */
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';
/** On a waypoint Gateway: which traffic it takes (`service`, the default; `workload`; `all`; `none`). */
export const WAYPOINT_FOR_LABEL = 'istio.io/waypoint-for';

export type WaypointFor = 'service' | 'workload' | 'all' | 'none';

export interface AmbientDecision {
  ambient: boolean;
  /** Why, in words a user recognises (for `trellis up` and the console). */
  reason: string;
}

/**
 * Istio's enrolment rule: a pod is captured when its namespace (or the pod itself) is labelled
 * `istio.io/dataplane-mode=ambient`, unless the pod says `none` or has a sidecar (sidecar pods are never captured).
 */
export function ambientEnrolment(namespaceLabels: Readonly<Record<string, string>>, podLabels: Readonly<Record<string, string>>, sidecar: boolean): AmbientDecision {
  const pod = podLabels[DATAPLANE_MODE_LABEL];
  const ns = namespaceLabels[DATAPLANE_MODE_LABEL];
  if (pod === 'none') return { ambient: false, reason: `pod label ${DATAPLANE_MODE_LABEL}=none` };
  if (pod !== 'ambient' && ns !== 'ambient') return { ambient: false, reason: 'not enrolled in ambient mode' };
  if (sidecar) return { ambient: false, reason: 'it has a sidecar (sidecar pods are not captured by the node proxy)' };
  return { ambient: true, reason: pod === 'ambient' ? `pod label ${DATAPLANE_MODE_LABEL}=ambient` : `namespace label ${DATAPLANE_MODE_LABEL}=ambient` };
}

/** Is any namespace or pod labelled for ambient mode? (Then Istio's own rules apply, not "every workload gets a sidecar".) */
export function anyAmbientLabel(labelSets: Iterable<Readonly<Record<string, string>>>): boolean {
  for (const l of labelSets) if (l[DATAPLANE_MODE_LABEL] === 'ambient') return true;
  return false;
}

/** The waypoint an object names: its own label first, then its namespace's; `none` on the object opts out. */
export function waypointReference(objectLabels: Readonly<Record<string, string>>, objectNamespace: string, namespaceLabels: Readonly<Record<string, string>>): { namespace: string; name: string } | undefined {
  const own = objectLabels[USE_WAYPOINT_LABEL];
  const chosen = own !== undefined ? objectLabels : namespaceLabels;
  const name = chosen[USE_WAYPOINT_LABEL];
  if (!name || name === 'none') return undefined;
  return { namespace: chosen[USE_WAYPOINT_NAMESPACE_LABEL] || objectNamespace, name };
}

/** A waypoint Gateway's `istio.io/waypoint-for` (Istio's default: service). */
export function waypointFor(gatewayLabels: Readonly<Record<string, string>> | undefined): WaypointFor {
  const v = gatewayLabels?.[WAYPOINT_FOR_LABEL];
  return v === 'workload' || v === 'all' || v === 'none' ? v : 'service';
}
