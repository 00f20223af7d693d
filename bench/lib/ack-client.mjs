// A simulated proxy for control-plane benchmarks: an ADS stream (state of the world, or delta as sidecars use by
// default) that subscribes like a sidecar and ACKs every response without decoding the resources inside, so the
// figures measure the control plane, not the clients.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { encodeDeltaRequest, encodeRequest } from '../../dist/xds/wire.js';
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
  constructor(address, nodeId, mode = 'sotw') {
    this.nodeId = nodeId;
    this.mode = mode;
    /** Delta: the names held per type (a response carries only what changed). */
    this.held = {};
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    this.counts = {};
    this.acks = {};
    this.names = {};
    this.listeners = [];
  }

  start() {
    const raw = (b) => b;
    const method = this.mode === 'delta' ? 'DeltaAggregatedResources' : 'StreamAggregatedResources';
    this.call = this.client.makeBidiStreamRequest(`/envoy.service.discovery.v3.AggregatedDiscoveryService/${method}`, raw, raw);
    this.call.on('data', (buf) => (this.mode === 'delta' ? this.onDeltaResponse(buf) : this.onResponse(buf)));
    this.call.on('error', () => {});
    const node = { id: this.nodeId, cluster: 'bench', metadata: { fields: { NAMESPACE: { stringValue: 'default' } } }, locality: {} };
    if (this.mode === 'delta') {
      this.call.write(encodeDeltaRequest({ node, typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: [] }));
      this.call.write(encodeDeltaRequest({ typeUrl: TypeUrl.Listener, resourceNamesSubscribe: [] }));
      return;
    }
    this.call.write(encodeRequest({ node, typeUrl: TypeUrl.Cluster, resourceNames: [] }));
    this.call.write(encodeRequest({ typeUrl: TypeUrl.Listener, resourceNames: [] }));
  }

  onDeltaResponse(buf) {
    const msg = scanDeltaResponse(buf);
    const t = msg.typeUrl;
    const held = (this.held[t] ??= new Set());
    for (const n of msg.names) held.add(n);
    for (const n of msg.removed) held.delete(n);
    this.counts[t] = held.size;
    this.call.write(encodeDeltaRequest({ typeUrl: t, responseNonce: msg.nonce }));
    this.acks[t] = performance.now();
    for (const l of this.listeners) l(t, held.size);
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
    if (this.mode === 'delta') this.call.write(encodeDeltaRequest({ typeUrl, resourceNamesSubscribe: names }));
    else this.call.write(encodeRequest({ typeUrl, resourceNames: names }));
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

/** A DeltaDiscoveryResponse's type, nonce, removed names and the names of the resources it carries (only those). */
function scanDeltaResponse(buf) {
  const r = protobuf.Reader.create(buf);
  const out = { typeUrl: '', nonce: '', names: [], removed: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 4) out.typeUrl = r.string();
    else if (field === 5) out.nonce = r.string();
    else if (field === 6) out.removed.push(r.string());
    else if (field === 2) {
      // Resource { version = 1; resource = 2; name = 3; ... }: read its name, step over the rest.
      const end = r.uint32() + r.pos;
      while (r.pos < end) {
        const t = r.uint32();
        if (t >>> 3 === 3) out.names.push(r.string());
        else r.skipType(t & 7);
      }
    } else r.skipType(tag & 7);
  }
  return out;
}
