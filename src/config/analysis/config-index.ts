// Lookups over a set of resources: by kind, by name, and the services and workloads that hosts and selectors refer to.

import type { Resource } from '../resource.js';

export class ConfigIndex {
  private readonly byGroupKind = new Map<string, Resource[]>();
  private readonly byKey = new Map<string, Resource>();

  constructor(readonly all: readonly Resource[]) {
    for (const r of all) {
      const gk = `${r.group}/${r.kind}`;
      let list = this.byGroupKind.get(gk);
      if (!list) this.byGroupKind.set(gk, (list = []));
      list.push(r);
      this.byKey.set(`${gk}/${r.metadata.namespace}/${r.metadata.name}`, r);
    }
  }

  /** Every resource of `group/kind`, optionally in one namespace. */
  list<T extends Resource = Resource>(group: string, kind: string, namespace?: string): T[] {
    const list = (this.byGroupKind.get(`${group}/${kind}`) ?? []) as T[];
    return namespace === undefined ? list : list.filter((r) => r.metadata.namespace === namespace);
  }

  get<T extends Resource = Resource>(group: string, kind: string, namespace: string, name: string): T | undefined {
    return this.byKey.get(`${group}/${kind}/${namespace}/${name}`) as T | undefined;
  }
}
