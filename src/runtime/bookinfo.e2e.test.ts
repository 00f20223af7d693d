// Istio's Bookinfo tasks on `trellis up` with pods on loopback addresses behind HTTP_PROXY (bookinfo-suite.ts).

import { bookinfoSuite } from './bookinfo-suite.js';

bookinfoSuite({ network: 'loopback', console: true });
