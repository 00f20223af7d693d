// A real Prometheus (Debian's `prometheus`) for the local mesh: generated configuration, file-based service discovery
// rewritten atomically as workloads come and go, data in the state directory, stopped with the mesh.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  stateDir: string;
  host?: string;
  port: number;
  /** Scrape (and file SD refresh) interval, e.g. "5s"; tests use "1s". */
  scrapeInterval?: string;
  /** Extra static jobs, e.g. the control plane's /metrics. */
  staticJobs?: Array<{ job: string; target: string; path: string }>;
  binary?: string;
  log?: (line: string) => void;
}

export class PrometheusRunner {
  private child: ChildProcess | undefined;
  private readonly sdFile: string;
  readonly url: string;

  private constructor(o: PrometheusOptions) {
    this.sdFile = join(o.stateDir, 'prometheus-targets.json');
    this.url = `http://${o.host ?? '127.0.0.1'}:${o.port}`;
  }

  /** The scrape configuration (also what a user adds to an external Prometheus). */
  static config(o: Pick<PrometheusOptions, 'scrapeInterval' | 'staticJobs'>, sdFile: string): string {
    const interval = o.scrapeInterval ?? '5s';
    const jobs = [
      `- job_name: envoy-stats\n  metrics_path: /stats/prometheus\n  file_sd_configs:\n  - files: [${JSON.stringify(sdFile)}]\n    refresh_interval: ${interval}`,
      ...(o.staticJobs ?? []).map((j) => `- job_name: ${j.job}\n  metrics_path: ${j.path}\n  static_configs:\n  - targets: [${JSON.stringify(j.target)}]`),
    ];
    return `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\nscrape_configs:\n${jobs.join('\n')}\n`;
  }

  /** For a Prometheus the user runs: the scrape config file and a targets writer (file SD), no process. */
  static writeExternal(o: Pick<PrometheusOptions, 'stateDir' | 'scrapeInterval' | 'staticJobs'>): { config: string; targets: (t: ScrapeTarget[]) => void } {
    mkdirSync(o.stateDir, { recursive: true });
    const sdFile = join(o.stateDir, 'prometheus-targets.json');
    const config = join(o.stateDir, 'prometheus-scrape.yml');
    writeFileSync(config, PrometheusRunner.config(o, sdFile));
    const targets = (t: ScrapeTarget[]) => {
      writeFileSync(`${sdFile}.tmp`, JSON.stringify(t.map((x) => ({ targets: [x.address], labels: x.labels })), null, 1));
      renameSync(`${sdFile}.tmp`, sdFile);
    };
    targets([]);
    return { config, targets };
  }

  static async start(o: PrometheusOptions): Promise<PrometheusRunner> {
    const p = new PrometheusRunner(o);
    mkdirSync(join(o.stateDir, 'prometheus'), { recursive: true });
    p.setTargets([]);
    const configFile = join(o.stateDir, 'prometheus.yml');
    writeFileSync(configFile, PrometheusRunner.config(o, p.sdFile));
    p.child = spawn(
      o.binary ?? 'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(o.stateDir, 'prometheus')}`, `--web.listen-address=${o.host ?? '127.0.0.1'}:${o.port}`, '--web.enable-lifecycle', '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = o.log ?? (() => {});
    p.child.stdout!.on('data', (c) => log(String(c).trimEnd()));
    p.child.stderr!.on('data', (c) => log(String(c).trimEnd()));
    const exited = new Promise<never>((_, reject) => {
      p.child!.once('exit', (code) => reject(new Error(`prometheus exited (${code}) before it was ready`)));
      p.child!.once('error', (err) => reject(new Error(`cannot run prometheus: ${err.message} (Debian: apt-get install prometheus)`)));
    });
    exited.catch(() => {});
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${p.url}/-/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (p.child.exitCode !== null || p.child.pid === undefined) await exited;
      if (Date.now() > deadline) {
        await p.stop();
        throw new Error('prometheus did not become ready in 30 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return p;
  }

  /** Replace the scrape targets (written atomically, picked up by file SD). */
  setTargets(targets: ScrapeTarget[]): void {
    const tmp = `${this.sdFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels })), null, 1));
    renameSync(tmp, this.sdFile);
  }

  /** PromQL instant query; returns the result vector. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? res.status}`);
    return body.data!.result;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => (clearTimeout(t), resolve()));
      c.kill('SIGTERM');
    });
  }
}
