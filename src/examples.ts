// Where the examples shipped with this package are (examples/ at its root), found from the installed code itself so
// that `trellis demo` runs from any clone or install, wherever it is and whatever lies beside it.

import { fileURLToPath } from 'node:url';

/** examples/bookinfo: Bookinfo's manifests, ingress Gateway, DestinationRules and routing files, written here. */
export const BOOKINFO_EXAMPLE = fileURLToPath(new URL('../examples/bookinfo', import.meta.url)); // dist/ → the package root
