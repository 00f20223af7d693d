// The Trellis version, and the Istio/Kiali releases whose behaviour it follows.

export const VERSION = '0.1.0';
export const ISTIO_COMPAT = '1.16 (OpenShift Service Mesh 2.4)';
