// `trellis up DIR`: run the manifests in DIR as a local mesh (control plane, a sidecar per pod, ingress gateway).

import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { caOptionSpecs, externalCaOptions } from '../ca-options.js';
import { NETWORK_USAGE, networkOptions, networkOptionSpecs } from '../network-options.js';
import { UsageError, type Command } from '../command.js';
import { LocalMesh } from '../../runtime/local-mesh.js';
import { DEFAULT_INGRESS_PORT, INGRESS_HTTPS_OFFSET, PORTS } from '../../ports.js';

const USAGE = `Usage: trellis up DIR [options]

Runs every Deployment replica and Pod in DIR as local processes, each behind its own Trellis sidecar, with the
control plane watching DIR (add, edit or remove YAML to change the mesh live) and an ingress gateway
(labels istio: ingressgateway) on the ingress port. Prints a line starting with "ready" when everything serves.

Options:
  --ingress-port N      host port of the ingress gateway's HTTP servers (default ${DEFAULT_INGRESS_PORT}; HTTPS servers
                        listen ${INGRESS_HTTPS_OFFSET} above it)
  --ingress-address A   where the ingress gateway listens (default 127.0.0.1)
  --image-map FILE      extra container image → local program mappings (YAML: images: {name: {program, args, env}})
  --state-dir DIR       what survives a restart (default DIR/.trellis)
  --xds-port N          control plane xDS port (default ${PORTS.xds})
  --ca-port N           Istio's CA API for the sidecars' agents, TLS (default ${PORTS.xdsTls})
  --debug-port N        control plane debug port (default ${PORTS.controlPlaneMonitoring})
  --console-port N      the console (the Kiali role) on 127.0.0.1 (default ${PORTS.console}; "none" to skip)
  --prometheus-port N   the local Prometheus (Debian's prometheus) scraping every proxy (default ${PORTS.prometheus}; "none" to
                        skip; "external" writes the scrape config and file-SD targets for a Prometheus you run)
  --cacerts DIR         a plugged-in CA: Istio's cacerts files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem)
  --external-ca-url URL sign workload certificates with an external CA (cfssl's remote API)
  --external-ca-mode M  intermediate (cfssl signs a mesh CA certificate; works with Debian's cfssl) or direct
                        (cfssl signs every workload; needs a cfssl that issues URI SANs); default intermediate
  --external-ca-profile P          cfssl signing profile
  --external-ca-auth-key-file F    cfssl auth key (hex): use /authsign with an HMAC token
  --external-ca-root F             the PKI's root, when cfssl signs with an intermediate
${NETWORK_USAGE}`;

export const upCommand: Command = {
  name: 'up',
  usage: USAGE,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          'ingress-port': { type: 'string', default: String(DEFAULT_INGRESS_PORT) },
          'ingress-address': { type: 'string', default: '127.0.0.1' },
          'image-map': { type: 'string' },
          'state-dir': { type: 'string' },
          'xds-port': { type: 'string', default: String(PORTS.xds) },
          'ca-port': { type: 'string', default: String(PORTS.xdsTls) },
          'debug-port': { type: 'string', default: String(PORTS.controlPlaneMonitoring) },
          'prometheus-port': { type: 'string', default: String(PORTS.prometheus) },
          'console-port': { type: 'string', default: String(PORTS.console) },
          ...caOptionSpecs('intermediate'),
          ...networkOptionSpecs,
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError('give one directory of manifests');
    const num = (v: string | undefined, name: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${name} must be a port number`);
      return n;
    };
    const dir = resolve(positionals[0]!);
    if (values.cacerts && values['external-ca-url']) throw new UsageError('give --cacerts or --external-ca-url, not both');
    const externalCa = externalCaOptions(values);
    const network = networkOptions(values);
    process.stdout.write(`network: ${network.network === 'netns' ? `network namespaces, ${network.ipFamily}` : 'loopback addresses'} (${network.why})\n`);
    const mesh = await LocalMesh.start({
      network: network.network,
      ipFamily: network.ipFamily,
      egressGateway: network.egressGateway,
      dir,
      stateDir: values['state-dir'] ?? `${dir}/.trellis`,
      ingressPort: num(values['ingress-port'], '--ingress-port'),
      ingressAddress: values['ingress-address'],
      imageMapFile: values['image-map'],
      xdsPort: num(values['xds-port'], '--xds-port'),
      debugPort: num(values['debug-port'], '--debug-port'),
      caPort: num(values['ca-port'], '--ca-port'),
      prometheusPort: ['none', 'external'].includes(values['prometheus-port']!) ? -1 : num(values['prometheus-port'], '--prometheus-port'),
      externalPrometheus: values['prometheus-port'] === 'external',
      consolePort: values['console-port'] === 'none' ? -1 : num(values['console-port'], '--console-port'),
      ...(values.cacerts ? { cacertsDir: resolve(values.cacerts) } : {}),
      ...(externalCa ? { externalCa } : {}),
    });
    const stopping = new Promise<void>((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
    });
    try {
      await Promise.race([mesh.waitReady(), stopping]);
      process.stdout.write(mesh.summary() + '\n');
    } catch (err) {
      process.stderr.write(`trellis up: ${(err as Error).message}\n`);
    }
    await stopping;
    process.stdout.write('stopping…\n');
    await mesh.stop();
    process.stdout.write('stopped\n');
    return 0;
  },
};
