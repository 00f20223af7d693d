// Test fixtures for ambient mode: Istio's waypoint Gateway (what `istioctl waypoint apply` writes), and a namespace in
// ambient mode whose services use it (reviews, with a named target port) or opt out (ratings).

/** A Gateway of class istio-waypoint; `labels` is a flow mapping's inside (`istio.io/waypoint-for: service`). */
export const waypointGatewayYaml = (name = 'waypoint', labels = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}${labels ? `, labels: {${labels}}` : ''}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;

/** Namespace `default` in ambient mode through waypoint `waypoint`; reviews uses it, ratings opts out. */
export const AMBIENT_SERVICES_YAML = `apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080, targetPort: http-port}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, labels: {istio.io/use-waypoint: none}}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
${waypointGatewayYaml()}`;
