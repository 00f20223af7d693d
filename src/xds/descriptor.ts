// The compact Envoy descriptor that `npm run build` writes to dist/xds/envoy-descriptor.json (build-descriptor.ts),
// and the root that reads it. Parsing the .proto files at startup costs ~0.2 s and ~18 MiB of RSS, much of it for
// options (validation rules, annotations) nothing reads at runtime and for types a given process never touches; the
// descriptor keeps only what encoding needs, and the root builds a type (with the types its fields name) the first
// time it is asked for, so a sidecar holds the types of its own config (199 of 344 units for Bookinfo's).

import protobuf from 'protobufjs';
import type { DescriptorSource } from './proto-files.js';

export { sameSource, type DescriptorSource } from './proto-files.js';

/** Where the file sits: beside the compiled protos.js. */
export const DESCRIPTOR_FILE = new URL('./envoy-descriptor.json', import.meta.url);

/**
 * One package-level message or enum with everything nested in it, as protobufjs's JSON (`Type.fromJSON` /
 * `Enum.fromJSON`), field types written as absolute names (".envoy.config.core.v3.Address") so they resolve the same
 * whichever other units are present; `deps` are the units those field types belong to.
 */
export interface DescriptorUnit {
  deps?: string[];
  json: protobuf.IType | protobuf.IEnum;
}

export interface EnvoyDescriptor {
  source: DescriptorSource;
  /** By full name without the leading dot ("envoy.config.listener.v3.Listener"). */
  units: Record<string, DescriptorUnit>;
}

/** A protobufjs root filled from a descriptor on demand. */
export class LazyRoot {
  readonly root = new protobuf.Root();
  private readonly units: Map<string, DescriptorUnit | undefined>;

  constructor(descriptor: EnvoyDescriptor) {
    this.units = new Map(Object.entries(descriptor.units));
  }

  /** A message type by full name (nested ones too), or undefined when the descriptor has no such type. */
  type(fullName: string): protobuf.Type | undefined {
    const name = fullName.startsWith('.') ? fullName.slice(1) : fullName;
    // The unit is the longest leading part of the name that is one: "a.b.Msg.Inner" lives in "a.b.Msg".
    for (let end = name.length; end > 0; end = name.lastIndexOf('.', end - 1)) {
      const unit = name.slice(0, end);
      if (!this.units.has(unit)) continue;
      this.add(unit);
      const found = this.root.lookup(`.${name}`);
      return found instanceof protobuf.Type ? found : undefined;
    }
    return undefined;
  }

  /** Every type of the descriptor (tools and tests; a running proxy never needs them all). */
  all(): protobuf.Root {
    for (const unit of [...this.units.keys()]) this.add(unit);
    return this.root;
  }

  /** Adds a unit and every unit its fields need, then resolves them (field types, features, packed encoding). */
  private add(unit: string): void {
    const pending = [unit];
    let added = false;
    while (pending.length) {
      const name = pending.pop()!;
      const u = this.units.get(name);
      if (!u) continue; // added already (its JSON is dropped then)
      this.units.set(name, undefined);
      const dot = name.lastIndexOf('.');
      const parent = dot < 0 ? this.root : this.root.define(name.slice(0, dot));
      const json = u.json as protobuf.IType & protobuf.IEnum;
      parent.add(json.fields ? protobuf.Type.fromJSON(name.slice(dot + 1), json) : protobuf.Enum.fromJSON(name.slice(dot + 1), json));
      pending.push(...(u.deps ?? []));
      added = true;
    }
    // Resolution walks only the namespaces that changed; everything a field names is present by now.
    if (added) this.root.resolveAll();
  }
}
