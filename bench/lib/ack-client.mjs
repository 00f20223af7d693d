// A simulated proxy for control-plane benchmarks: an ADS (SotW) stream that subscribes like a sidecar and ACKs every
// response without decoding the resources inside, so the figures measure the control plane, not the clients.
import * as grpc from '@grpc/grpc-js';
import { encodeRequest, wireTypes } from '../../dist/xds/wire.js';
import { TypeUrl } from '../../dist/xds/resource.js';

export class AckClient {
  constructor(address, nodeId) {
    this.nodeId = nodeId;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
    this.counts = {};
    this.acks = {};
    this.names = {};
    this.listeners = [];
  }

  start() {
    const raw = (b) => b;
    this.call = this.client.makeBidiStreamRequest('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', raw, raw);
    this.call.on('data', (buf) => this.onResponse(buf));
    this.call.on('error', () => {});
    const node = { id: this.nodeId, cluster: 'bench', metadata: { fields: { NAMESPACE: { stringValue: 'default' } } }, locality: {} };
    this.call.write(encodeRequest({ node, typeUrl: TypeUrl.Cluster, resourceNames: [] }));
    this.call.write(encodeRequest({ typeUrl: TypeUrl.Listener, resourceNames: [] }));
  }

  onResponse(buf) {
    const msg = wireTypes().res.decode(buf);
    const t = msg.typeUrl;
    const names = msg.resources.map((r) => r);
    this.counts[t] = names.length;
    this.call.write(encodeRequest({ typeUrl: t, versionInfo: msg.versionInfo, responseNonce: msg.nonce, resourceNames: this.names[t] ?? [] }));
    this.acks[t] = performance.now();
    for (const l of this.listeners) l(t, names.length);
  }

  /** Subscribe to explicit names (EDS cluster names, RDS route names) like a sidecar following references. */
  subscribe(typeUrl, names) {
    this.names[typeUrl] = names;
    this.call.write(encodeRequest({ typeUrl, resourceNames: names }));
  }

  close() {
    this.call?.cancel();
    this.client.close();
  }
}
