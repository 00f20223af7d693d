// Where the examples shipped with this package are (examples/ at its root), found from the installed code itself so
// that `trellis demo` runs from any clone or install, wherever it is and whatever lies beside it.

import { fileURLToPath } from 'node:url';

/** examples/bookinfo: Bookinfo's manifests, ingress Gateway, DestinationRules and routing files, written here. */
export const BOOKINFO_EXAMPLE = fileURLToPath(new URL('../examples/bookinfo', import.meta.url)); // dist/ → the package root

/** examples/ossm-multitenant: an OpenShift Service Mesh multi-tenant control plane with its member roll. */
export const OSSM_MULTITENANT_EXAMPLE = fileURLToPath(new URL('../examples/ossm-multitenant', import.meta.url));

/** examples/ossm-clusterwide: Bookinfo under a cluster-wide OpenShift Service Mesh control plane. */
export const OSSM_CLUSTERWIDE_EXAMPLE = fileURLToPath(new URL('../examples/ossm-clusterwide', import.meta.url));
