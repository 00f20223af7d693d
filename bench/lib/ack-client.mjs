// A simulated proxy for control-plane benchmarks: an ADS (SotW) stream that subscribes like a sidecar and ACKs every
// response without decoding the resources inside, so the figures measure the control plane, not the clients.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { encodeRequest } from '../../dist/xds/wire.js';
import { TypeUrl } from '../../dist/xds/resource.js';

const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  // Like real proxies, each has a connection of its own: grpc-js would otherwise carry every simulated proxy of
  // the process on one shared HTTP/2 connection.
  'grpc.use_local_subchannel_pool': 1,
  // Envoy's default HTTP/2 windows (256 MiB) rather than grpc-js's 64 KiB, which paces a large response at one
  // window per round trip between two busy event loops.
  'grpc-node.flow_control_window': 256 * 1024 * 1024,
};

export class AckClient {
  constructor(address, nodeId) {
    this.nodeId = nodeId;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
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
    const msg = scanResponse(buf);
    const t = msg.typeUrl;
    this.counts[t] = msg.resources;
    this.call.write(encodeRequest({ typeUrl: t, versionInfo: msg.versionInfo, responseNonce: msg.nonce, resourceNames: this.names[t] ?? [] }));
    this.acks[t] = performance.now();
    for (const l of this.listeners) l(t, msg.resources);
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

/** The DiscoveryResponse fields an ACK needs and the number of resources, stepping over the resources themselves. */
function scanResponse(buf) {
  const r = protobuf.Reader.create(buf);
  const out = { versionInfo: '', typeUrl: '', nonce: '', resources: 0 };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) out.versionInfo = r.string();
    else if (field === 4) out.typeUrl = r.string();
    else if (field === 5) out.nonce = r.string();
    else {
      if (field === 2) out.resources++;
      r.skipType(tag & 7);
    }
  }
  return out;
}
