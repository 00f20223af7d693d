// Registers the HTTP filters that ship with the proxy (importing this module is enough).

import './cors-filter.js';
import './ext-authz-filter.js';
import './fault-filter.js';
import './jwt-authn-filter.js';
import './rbac-filter.js';
import './router-filter.js';
