// Table tests of the Kubernetes validators: ordinary manifests (with fields Trellis ignores) pass; the rules a mesh relies on fail where expected.

import { kubernetesValidators as v } from './kubernetes.js';
import { manifest, testInvalid, testValid } from './testing.js';

const svc = (body: string, metadata?: string) => manifest('v1', 'Service', body, metadata);
const deploy = (body: string, metadata?: string) => manifest('apps/v1', 'Deployment', body, metadata);
/** A Deployment of app=web whose single container has `container` (YAML) as extra fields. */
const withContainer = (container: string) =>
  deploy(`
    spec:
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: web:1
            ${container.trim().replace(/\n/g, '\n            ')}
  `);
const secret = (body: string) => manifest('v1', 'Secret', body);
const cm = (body: string) => manifest('v1', 'ConfigMap', body);

testValid('Kubernetes', v, [
  { name: 'Namespace with injection label', yaml: manifest('v1', 'Namespace', '', 'name: bookinfo\nlabels:\n  istio-injection: enabled') },
  {
    name: 'Service with named ports',
    yaml: svc(`
      spec:
        type: ClusterIP
        selector: {app: reviews}
        ports:
        - name: http
          port: 9080
          targetPort: http-web
          protocol: TCP
          appProtocol: http
        - name: grpc
          port: 9090
          targetPort: 9090
    `),
  },
  { name: 'single unnamed port', yaml: svc('spec:\n  ports:\n  - port: 80') },
  { name: 'headless Service without ports', yaml: svc('spec:\n  clusterIP: None\n  selector: {app: db}') },
  { name: 'ExternalName Service', yaml: svc('spec:\n  type: ExternalName\n  externalName: api.example.com') },
  {
    name: 'Deployment with fields Trellis does not model',
    yaml: deploy(
      `
      spec:
        replicas: 3
        strategy:
          type: RollingUpdate
          rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
        revisionHistoryLimit: 5
        selector:
          matchLabels:
            app: reviews
          matchExpressions:
          - key: version
            operator: In
            values: [v1, v2]
        template:
          metadata:
            labels:
              app: reviews
              version: v1
            annotations:
              sidecar.istio.io/inject: "true"
              proxy.istio.io/config: |
                holdApplicationUntilProxyStarts: true
          spec:
            serviceAccountName: bookinfo-reviews
            terminationGracePeriodSeconds: 30
            securityContext:
              runAsNonRoot: true
            volumes:
            - name: tmp
              emptyDir: {}
            affinity:
              podAntiAffinity: {}
            tolerations:
            - key: dedicated
              operator: Exists
            nodeSelector:
              kubernetes.io/os: linux
            initContainers:
            - name: init
              image: busybox
              command: ["sh", "-c", "true"]
            containers:
            - name: reviews
              image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.2
              imagePullPolicy: IfNotPresent
              env:
              - name: LOG_DIR
                value: /tmp/logs
              - name: POD_NAME
                valueFrom:
                  fieldRef:
                    fieldPath: metadata.name
              ports:
              - containerPort: 9080
                name: http-web
              resources:
                requests: {cpu: 100m, memory: 128Mi}
              readinessProbe:
                httpGet: {path: /health, port: 9080}
              livenessProbe:
                tcpSocket: {port: 9080}
              volumeMounts:
              - name: tmp
                mountPath: /tmp
              securityContext:
                runAsUser: 1000
              lifecycle:
                preStop:
                  exec: {command: [sleep, "5"]}
      `,
      'name: reviews-v1\nlabels:\n  app: reviews\n  version: v1',
    ),
  },
  {
    name: 'StatefulSet',
    yaml: manifest('apps/v1', 'StatefulSet', `
      spec:
        serviceName: db
        replicas: 1
        podManagementPolicy: Parallel
        selector: {matchLabels: {app: db}}
        template:
          metadata: {labels: {app: db}}
          spec:
            containers:
            - {name: db, image: "postgres:16"}
        volumeClaimTemplates:
        - metadata: {name: data}
          spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
    `),
  },
  { name: 'DaemonSet', yaml: manifest('apps/v1', 'DaemonSet', 'spec:\n  selector: {matchLabels: {app: agent}}\n  updateStrategy: {type: OnDelete}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      hostNetwork: true\n      containers:\n      - {name: agent, image: agent}') },
  { name: 'Pod', yaml: manifest('v1', 'Pod', 'spec:\n  restartPolicy: Never\n  containers:\n  - name: curl\n    image: curlimages/curl\n    command: ["sleep", "3600"]') },
  { name: 'ServiceAccount', yaml: manifest('v1', 'ServiceAccount', 'automountServiceAccountToken: false\nimagePullSecrets:\n- name: registry') },
  { name: 'TLS Secret', yaml: secret('type: kubernetes.io/tls\ndata:\n  tls.crt: LS0tLS1CRUdJTg==\n  tls.key: LS0tLS1CRUdJTg==\n  ca.crt: ""') },
  { name: 'Secret with stringData', yaml: secret('type: Opaque\nstringData:\n  password: "s3cr3t"\ndata:\n  user: YWRtaW4=') },
  { name: 'ConfigMap', yaml: cm('data:\n  mesh: |\n    defaultConfig: {}\n  config.json: "{}"\nbinaryData:\n  logo.png: iVBORw0KGgo=') },
  { name: 'Endpoints', yaml: manifest('v1', 'Endpoints', 'subsets:\n- addresses:\n  - ip: 10.0.0.5\n  - ip: "fd00::5"\n  ports:\n  - name: mysql\n    port: 3306') },
]);

testInvalid('Service', v, [
  { name: 'name starting with a digit', yaml: svc('spec:\n  ports:\n  - port: 80', 'name: 1web'), path: '/metadata/name', message: 'not a valid DNS-1035 label' },
  { name: 'port missing', yaml: svc('spec:\n  ports:\n  - targetPort: 8080'), path: '/spec/ports/0', message: 'missing required field "port"' },
  { name: 'port out of range', yaml: svc('spec:\n  ports:\n  - port: 70000'), path: '/spec/ports/0/port', message: 'must be <= 65535' },
  { name: 'port zero', yaml: svc('spec:\n  ports:\n  - port: 0'), path: '/spec/ports/0/port', message: 'must be >= 1' },
  { name: 'unnamed ports when there are two', yaml: svc('spec:\n  ports:\n  - port: 80\n  - port: 443\n    name: https'), path: '/spec/ports/0', message: 'name is required when a Service has more than one port' },
  { name: 'duplicate port names', yaml: svc('spec:\n  ports:\n  - port: 80\n    name: http\n  - port: 8080\n    name: http'), path: '/spec/ports/1/name', message: 'already used by ports[0]' },
  { name: 'duplicate port numbers', yaml: svc('spec:\n  ports:\n  - port: 80\n    name: a\n  - port: 80\n    name: b'), path: '/spec/ports/1/port', message: 'port 80/TCP is already used' },
  { name: 'invalid port name', yaml: svc('spec:\n  ports:\n  - port: 80\n    name: HTTP_Web'), path: '/spec/ports/0/name', message: 'not a valid port name' },
  { name: 'targetPort name with underscore', yaml: svc('spec:\n  ports:\n  - port: 80\n    targetPort: http_port'), path: '/spec/ports/0/targetPort', message: 'not a valid port name' },
  { name: 'targetPort number in quotes', yaml: svc('spec:\n  ports:\n  - port: 80\n    targetPort: "8080"'), path: '/spec/ports/0/targetPort', message: 'number written as a string' },
  { name: 'targetPort out of range', yaml: svc('spec:\n  ports:\n  - port: 80\n    targetPort: 0'), path: '/spec/ports/0/targetPort', message: 'not a port number' },
  { name: 'protocol HTTP', yaml: svc('spec:\n  ports:\n  - port: 80\n    protocol: HTTP'), path: '/spec/ports/0/protocol', message: 'must be one of "TCP", "UDP", "SCTP"' },
  { name: 'unknown type', yaml: svc('spec:\n  type: Internal\n  ports:\n  - port: 80'), path: '/spec/type', message: 'must be one of "ClusterIP"' },
  { name: 'no ports', yaml: svc('spec:\n  selector: {app: a}'), path: '/spec', message: 'at least one port is required' },
  { name: 'ExternalName without name', yaml: svc('spec:\n  type: ExternalName'), path: '/spec', message: 'externalName is required' },
  { name: 'nodePort on ClusterIP', yaml: svc('spec:\n  ports:\n  - port: 80\n    nodePort: 30080'), path: '/spec/ports/0/nodePort', message: 'may not be set when the type is ClusterIP' },
  { name: 'selector value not a string', yaml: svc('spec:\n  selector:\n    version: 1\n  ports:\n  - port: 80'), path: '/spec/selector/version', message: 'label values must be strings; quote it' },
  { name: 'misspelt spec field', yaml: svc('spec:\n  selectors: {app: a}\n  ports:\n  - port: 80'), path: '/spec/selectors', message: 'unknown field "selectors"', level: 'Warning' },
]);

testInvalid('Deployment', v, [
  { name: 'no containers', yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: []'), path: '/spec/template/spec/containers', message: 'must NOT have fewer than 1 items' },
  { name: 'container without image', yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers:\n      - name: a'), path: '/spec/template/spec/containers/0', message: 'missing required field "image"' },
  { name: 'no template', yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}'), path: '/spec', message: 'missing required field "template"' },
  { name: 'negative replicas', yaml: deploy('spec:\n  replicas: -1\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers:\n      - {name: a, image: a}'), path: '/spec/replicas', message: 'must be >= 0' },
  {
    name: 'selector does not match template labels',
    yaml: deploy('spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - {name: a, image: a}'),
    path: '/spec/template/metadata/labels',
    message: 'do not match spec.selector',
  },
  {
    name: 'matchExpressions not satisfied',
    yaml: deploy('spec:\n  selector:\n    matchExpressions:\n    - {key: tier, operator: Exists}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - {name: a, image: a}'),
    path: '/spec/template/metadata/labels',
    message: 'do not match spec.selector',
  },
  { name: 'empty selector', yaml: deploy('spec:\n  selector: {}\n  template:\n    spec:\n      containers:\n      - {name: a, image: a}'), path: '/spec/selector', message: 'an empty selector is invalid' },
  {
    name: 'duplicate container names',
    yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      initContainers:\n      - {name: a, image: a}\n      containers:\n      - {name: a, image: a}'),
    path: '/spec/template/spec/containers/0/name',
    message: 'already used by initContainers[0]',
  },
  { name: 'container name with upper case', yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers:\n      - {name: Web, image: a}'), path: '/spec/template/spec/containers/0/name', message: 'not a valid container name' },
  { name: 'env value as a number', yaml: withContainer('env:\n- name: PORT\n  value: 8080'), path: '/spec/template/spec/containers/0/env/0/value', message: 'must be a string' },
  { name: 'env value and valueFrom', yaml: withContainer('env:\n- name: A\n  value: x\n  valueFrom:\n    fieldRef: {fieldPath: metadata.name}'), path: '/spec/template/spec/containers/0/env/0', message: 'set value or valueFrom, not both' },
  { name: 'env without name', yaml: withContainer('env:\n- value: x'), path: '/spec/template/spec/containers/0/env/0', message: 'missing required field "name"' },
  { name: 'duplicate env', yaml: withContainer('env:\n- {name: A, value: x}\n- {name: A, value: y}'), path: '/spec/template/spec/containers/0/env/1/name', message: 'already set by env[0]', level: 'Warning' },
  { name: 'port name too long', yaml: withContainer('ports:\n- containerPort: 80\n  name: http-metrics-port'), path: '/spec/template/spec/containers/0/ports/0/name', message: 'not a valid port name' },
  { name: 'port without containerPort', yaml: withContainer('ports:\n- name: http'), path: '/spec/template/spec/containers/0/ports/0', message: 'missing required field "containerPort"' },
  { name: 'containerPort as a string', yaml: withContainer('ports:\n- containerPort: "8080"'), path: '/spec/template/spec/containers/0/ports/0/containerPort', message: 'must be an integer' },
  { name: 'imagePullPolicy in lower case', yaml: withContainer('imagePullPolicy: always'), path: '/spec/template/spec/containers/0/imagePullPolicy', message: 'must be one of "Always", "IfNotPresent", "Never"' },
  { name: 'misspelt container field', yaml: withContainer('imagePullPolicyy: Always'), path: '/spec/template/spec/containers/0/imagePullPolicyy', message: 'unknown field "imagePullPolicyy"', level: 'Warning' },
  {
    name: 'restartPolicy Never',
    yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: a, image: a}'),
    path: '/spec/template/spec/restartPolicy',
    message: 'must be Always for a Deployment',
  },
  {
    name: 'unquoted boolean annotation',
    yaml: deploy('spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata:\n      labels: {app: a}\n      annotations:\n        sidecar.istio.io/inject: false\n    spec:\n      containers:\n      - {name: a, image: a}'),
    path: '/spec/template/metadata/annotations/sidecar.istio.io~1inject',
    message: 'annotation values must be strings; quote it: "false"',
  },
  { name: 'bad metadata label key', yaml: deploy('spec: {}', 'name: a\nlabels:\n  "-app": x'), path: '/metadata/labels/-app', message: 'not a valid label key' },
  { name: 'label value too long', yaml: deploy('spec: {}', `name: a\nlabels:\n  app: ${'x'.repeat(64)}`), path: '/metadata/labels/app', message: 'not a valid label value' },
]);

testInvalid('Kubernetes objects', v, [
  { name: 'Namespace name with a dot', yaml: manifest('v1', 'Namespace', '', 'name: my.ns'), path: '/metadata/name', message: 'not a valid DNS-1123 label' },
  { name: 'Pod without spec', yaml: manifest('v1', 'Pod', ''), path: '', message: 'spec with containers is required' },
  { name: 'Secret value not base64', yaml: secret('data:\n  password: s3cr3t!'), path: '/data/password', message: 'put plain text under stringData' },
  { name: 'TLS Secret without key', yaml: secret('type: kubernetes.io/tls\ndata:\n  tls.crt: LS0tLS1CRUdJTg=='), path: '/data', message: 'needs the key "tls.key"' },
  { name: 'Secret with a bad key', yaml: secret('stringData:\n  "my key": x'), path: '/stringData/my key', message: 'not a valid key' },
  { name: 'service-account-token without annotation', yaml: secret('type: kubernetes.io/service-account-token'), path: '/metadata/annotations', message: 'kubernetes.io/service-account.name' },
  { name: 'ConfigMap number value', yaml: cm('data:\n  replicas: 3'), path: '/data/replicas', message: 'values must be strings; quote it' },
  { name: 'ConfigMap key in data and binaryData', yaml: cm('data:\n  a: x\nbinaryData:\n  a: eA=='), path: '/binaryData/a', message: 'only one of data and binaryData' },
  { name: 'ServiceAccount automount as string', yaml: manifest('v1', 'ServiceAccount', 'automountServiceAccountToken: "false"'), path: '/automountServiceAccountToken', message: 'must be a boolean' },
  { name: 'Endpoints with a bad IP', yaml: manifest('v1', 'Endpoints', 'subsets:\n- addresses:\n  - ip: 10.0.0.256\n  ports:\n  - port: 80'), path: '/subsets/0/addresses/0/ip', message: 'not a valid IP address' },
  { name: 'namespace with upper case', yaml: manifest('v1', 'ConfigMap', 'data: {}', 'name: example\nnamespace: Prod'), path: '/metadata/namespace', message: 'not a valid DNS-1123 label' },
]);
