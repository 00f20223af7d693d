// GatewayClasses as Istio (and so Trellis) sees them: `istio` exists without being declared (Istio creates it), as do
// `istio-remote` (configured, never deployed) and `istio-waypoint` (reserved for ambient waypoints); a declared class
// is Trellis's when its controllerName is one of Istio's.

import type { Resource } from '../../../config/resource.js';
import {
  ISTIO_CONTROLLER_NAME,
  ISTIO_GATEWAY_CLASS,
  ISTIO_MESH_CONTROLLER_NAME,
  ISTIO_REMOTE_CLASS,
  ISTIO_UNMANAGED_CONTROLLER_NAME,
  ISTIO_WAYPOINT_CLASS,
  type GatewayClass,
} from '../../../config/types/gateway-api.js';
import { GATEWAY_API_GROUP } from '../../../config/gateway-api.js';
import { C, condition, R, type Condition } from './conditions.js';

/** What Trellis does with the Gateways of a class. */
export type ClassRole =
  /** Configures them and, in `trellis up`, deploys a gateway proxy for each (Istio's automated deployment). */
  | 'deployed'
  /** Configures them; their proxies are run by someone else. */
  | 'unmanaged'
  /** Reserved for ambient waypoints: recognised, not served yet. */
  | 'waypoint';

export interface GatewayClassInfo {
  name: string;
  controllerName: string;
  role: ClassRole;
  /** Undefined for the classes Istio provides without an object. */
  resource?: GatewayClass;
  accepted: Condition;
}

const ROLES: Record<string, ClassRole> = {
  [ISTIO_CONTROLLER_NAME]: 'deployed',
  [ISTIO_UNMANAGED_CONTROLLER_NAME]: 'unmanaged',
  [ISTIO_MESH_CONTROLLER_NAME]: 'waypoint',
};

const BUILT_IN: ReadonlyArray<[string, string]> = [
  [ISTIO_GATEWAY_CLASS, ISTIO_CONTROLLER_NAME],
  [ISTIO_REMOTE_CLASS, ISTIO_UNMANAGED_CONTROLLER_NAME],
  [ISTIO_WAYPOINT_CLASS, ISTIO_MESH_CONTROLLER_NAME],
];

/** The classes Trellis handles, by name: the built-in ones, then declared ones with Istio's controllers (which win). */
export function gatewayClasses(resources: readonly Resource[]): Map<string, GatewayClassInfo> {
  const out = new Map<string, GatewayClassInfo>();
  const accepted = condition(C.Accepted, true, R.Accepted, 'Handled by Trellis (Istio gateway controller)');
  for (const [name, controllerName] of BUILT_IN) out.set(name, { name, controllerName, role: ROLES[controllerName]!, accepted });
  for (const r of resources) {
    if (r.group !== GATEWAY_API_GROUP || r.kind !== 'GatewayClass') continue;
    const cls = r as GatewayClass;
    const controllerName = cls.spec.controllerName ?? '';
    const role = ROLES[controllerName];
    if (!role) {
      // Another controller's class: not ours to serve or to write status for.
      out.delete(cls.metadata.name);
      continue;
    }
    // parametersRef points at implementation-specific settings Trellis does not read: accepted, and said so.
    const params = cls.spec.parametersRef ? ' (parametersRef is not used by Trellis)' : '';
    out.set(cls.metadata.name, { name: cls.metadata.name, controllerName, role, resource: cls, accepted: condition(C.Accepted, true, R.Accepted, `Handled by Trellis${params}`) });
  }
  return out;
}
