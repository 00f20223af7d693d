// Writes objects' status subresources, each only when it differs from what this process last wrote there: a write
// comes back through the watches, and writing the same status again would loop.

import type { KubeClient } from '../client/kube-client.js';
import { objectPath, type WatchedType } from '../resource-types.js';

export class StatusPatcher {
  /** The status last written, by object path (JSON). */
  private readonly written = new Map<string, string>();
  /** Status writes made, for tests and logs. */
  writes = 0;

  constructor(private readonly client: KubeClient) {}

  /**
   * Merge-patches `status` into the object's status subresource unless that was the last write; resolves whether it
   * wrote. A field set to null is removed (merge patch), so `{ validationMessages: null }` clears Istio's messages.
   */
  async write(type: WatchedType, namespace: string, name: string, status: unknown): Promise<boolean> {
    const path = statusPath(type, namespace, name);
    const text = JSON.stringify(status);
    if (this.written.get(path) === text) return false;
    await this.client.request('PATCH', path, { body: { status } });
    this.written.set(path, text);
    this.writes++;
    return true;
  }

  /** Forgets an object that is gone, so a new object of the same name gets its status written. */
  forget(type: WatchedType, namespace: string, name: string): void {
    this.written.delete(statusPath(type, namespace, name));
  }
}

const statusPath = (type: WatchedType, namespace: string, name: string) => `${objectPath(type, namespace, name)}/status`;
