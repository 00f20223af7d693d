// Istio's Bookinfo tasks on `trellis up --network netns`: every pod in its own network namespace on 9080, traffic
// captured by its sidecar as Istio's iptables rules do, no proxy variable in any app (bookinfo-suite.ts). Also checks
// what only this mode has: the pods' addresses, ClusterIPs and DNS, and no HTTP_PROXY.

import { describe } from 'node:test';
import { bookinfoSuite } from './bookinfo-suite.js';
import { netnsAvailability } from './network-mode.js';

const netns = netnsAvailability();
if (netns.ok) bookinfoSuite({ network: 'netns' });
else describe('Bookinfo in network namespaces', { skip: netns.reason }, () => undefined);
