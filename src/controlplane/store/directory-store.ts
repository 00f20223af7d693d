// A config store over a directory of YAML files, watched for changes; a bad edit is rejected and the last good version stays.

import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { formatText } from '../../config/analysis/format.js';
import { listYamlFiles, loadText } from '../../config/loader.js';
import { resourceKey, type Resource } from '../../config/resource.js';
import { BaseStore, type ConfigStore, type Rejection } from './config-store.js';
import { diffResources, stampGenerations } from './diff.js';
import { screen } from './screen.js';

export interface DirectoryStoreOptions {
  /** Quiet period after a file event before rescanning; editors write files in several steps. */
  debounceMs?: number;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
  /**
   * Interval of a stat-based safety-net rescan (default 2000 ms; 0 turns it off). File events are not
   * guaranteed: inotify watches run out, overlay and network filesystems drop events, and a ConfigMap
   * volume swaps a symlink. The poll only reads files whose size, mtime or inode changed.
   */
  pollMs?: number;
  /** Use file events (default true); false leaves only the poll, for filesystems without inotify. */
  watch?: boolean;
}

interface FileState {
  text: string;
  /** size:mtime:inode when last read, so a poll can skip files that did not change. */
  stamp: string;
  /** Accepted resources of this file, by key, in file order. */
  resources: Map<string, Resource>;
}

export class DirectoryStore extends BaseStore implements ConfigStore {
  private readonly files = new Map<string, FileState>();
  private readonly rejected = new Map<string, Rejection>();
  /** One plain watch per directory: Node 20's recursive mode on Linux misses unlinks after a rename. */
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly debounceMs: number;
  private readonly useEvents: boolean;
  private readonly log: (line: string) => void;

  private constructor(
    readonly dir: string,
    options: DirectoryStoreOptions,
  ) {
    super();
    this.debounceMs = options.debounceMs ?? 50;
    this.useEvents = options.watch ?? true;
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /** Load the directory, then watch it. Resolves once the first load is done. */
  static async open(dir: string, options: DirectoryStoreOptions = {}): Promise<DirectoryStore> {
    const store = new DirectoryStore(dir, options);
    await store.rescan('initial load', false);
    const pollMs = options.pollMs ?? 2000;
    if (pollMs > 0) {
      store.poller = setInterval(() => {
        store.scanning = store.scanning.then(() => store.rescan('files changed (poll)', true));
      }, pollMs);
      store.poller.unref();
    }
    return store;
  }

  rejections(): readonly Rejection[] {
    return [...this.rejected.values()];
  }

  /** Rescan now (tests and `trellis up` use it to avoid waiting for the debounce). Resolves when applied. */
  sync(reason = 'sync'): Promise<void> {
    this.scanning = this.scanning.then(() => this.rescan(reason, false));
    return this.scanning;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    await this.scanning;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.removeAllListeners();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sync('files changed'), this.debounceMs);
  }

  /** Watch every directory under the root (and only those), so new subdirectories are followed too. */
  private async refreshWatches(): Promise<void> {
    if (!this.useEvents) return;
    const dirs = await listDirectories(this.dir).catch(() => [this.dir]);
    const wanted = new Set(dirs);
    for (const [d, w] of this.watchers) if (!wanted.has(d)) (w.close(), this.watchers.delete(d));
    for (const d of dirs) {
      if (this.watchers.has(d) || this.closed) continue;
      try {
        const w = watch(d, () => this.schedule());
        w.on('error', (err) => this.log(`config: watching ${d} failed: ${err.message}`));
        this.watchers.set(d, w);
      } catch (err) {
        this.log(`config: cannot watch ${d}: ${(err as Error).message}`);
      }
    }
  }

  /** `byStamp`: read only files whose stat changed (the poll); otherwise read every file (after an event). */
  private async rescan(reason: string, byStamp: boolean): Promise<void> {
    if (this.closed) return;
    await this.refreshWatches();
    let paths: string[];
    try {
      paths = await listYamlFiles(this.dir);
    } catch (err) {
      this.log(`config: cannot read ${this.dir}: ${(err as Error).message}; keeping the last good config`);
      return;
    }
    const changedFiles: string[] = [];
    const present = new Set(paths);
    for (const path of [...this.files.keys()]) {
      if (!present.has(path)) {
        this.files.delete(path);
        this.rejected.delete(path);
        changedFiles.push(`${this.name(path)} removed`);
      }
    }
    for (const path of paths) {
      const before = this.files.get(path);
      let text: string;
      let stamp: string;
      try {
        const st = await stat(path);
        stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
        if (byStamp && before?.stamp === stamp) continue;
        text = await readFile(path, 'utf8');
      } catch {
        continue; // removed between listing and reading: the next event rescans
      }
      if (before && before.text === text) {
        before.stamp = stamp;
        continue;
      }
      this.applyFile(path, text, stamp, before);
      changedFiles.push(this.name(path));
    }
    if (!changedFiles.length) return;
    this.commit(`${reason}: ${changedFiles.join(', ')}`);
  }

  /** Accept the valid objects of a new file version; keep the previous version of each rejected object. */
  private applyFile(path: string, text: string, stamp: string, before: FileState | undefined): void {
    const { resources, errors: loadErrors } = loadText(text, path);
    const screened = loadErrors.length ? screen([], loadErrors) : screen(resources);
    const next = new Map<string, Resource>();
    if (loadErrors.length) {
      // Unparseable: nothing in it can be trusted, so the whole previous version stays.
      for (const [k, r] of before?.resources ?? []) next.set(k, r);
    } else {
      for (const r of resources) {
        const key = resourceKey(r);
        if (!screened.rejectedKeys.has(key)) next.set(key, r);
        else {
          const previous = before?.resources.get(key);
          if (previous) next.set(key, previous);
        }
      }
    }
    this.files.set(path, { text, stamp, resources: next });
    if (screened.errors.length) {
      const rejection: Rejection = { source: path, at: Date.now(), diagnostics: screened.errors };
      this.rejected.set(path, rejection);
      for (const d of screened.errors) this.log(`config: rejected ${formatText({ ...d, file: d.file ? this.name(d.file) : d.file })}; the last good version stays in force`);
      this.emit('rejected', rejection);
    } else {
      this.rejected.delete(path);
    }
  }

  private commit(reason: string): void {
    // Later files win on duplicate keys, in the stable name order of listYamlFiles.
    const merged = new Map<string, Resource>();
    for (const path of [...this.files.keys()].sort()) for (const [k, r] of this.files.get(path)!.resources) merged.set(k, r);
    const next = [...merged.values()];
    stampGenerations(this.current, next);
    const change = diffResources(this.current, next, reason);
    if (!change) return;
    this.current = next;
    this.rev++;
    this.emit('change', change);
  }

  private name(path: string): string {
    return relative(this.dir, path) || path;
  }
}

async function listDirectories(root: string): Promise<string[]> {
  const out = [root];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.name.startsWith('.')) out.push(...(await listDirectories(join(root, entry.name))));
  }
  return out;
}
