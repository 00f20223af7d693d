// The catalogue of message types: Istio's analyzer codes (IST…) with their levels, plus Trellis's own loader codes (TRL…).

import type { MessageType } from '../diagnostics.js';

function type(code: string, name: string, level: MessageType['level'], description: string): MessageType {
  return { code, name, level, description };
}

export const Messages = {
  // Trellis's own: problems that keep a document from becoming a resource.
  ConfigFileNotFound: type('TRL0001', 'ConfigFileNotFound', 'Error', 'A path given to Trellis does not exist or cannot be read.'),
  YAMLSyntaxError: type('TRL0002', 'YAMLSyntaxError', 'Error', 'A file is not valid YAML.'),
  NotAKubernetesObject: type('TRL0003', 'NotAKubernetesObject', 'Error', 'A YAML document is not a Kubernetes object (no apiVersion, kind or metadata.name).'),
  UnknownKind: type('TRL0004', 'UnknownKind', 'Info', 'A kind Trellis does not read; the object is kept but has no effect on the mesh.'),
  UnsupportedAPIVersion: type('TRL0005', 'UnsupportedAPIVersion', 'Error', 'A known kind in an API version that does not exist for it.'),
  DuplicateResource: type('TRL0006', 'DuplicateResource', 'Warning', 'Two documents define the same kind, namespace and name; as with kubectl apply, the later one replaces the earlier.'),

  // Istio's analyzer messages (same codes, names and levels as istioctl analyze).
  InternalError: type('IST0001', 'InternalError', 'Error', 'There was an internal error in the toolchain.'),
  Deprecated: type('IST0002', 'Deprecated', 'Warning', 'A feature that the configuration is depending on is now deprecated.'),
  ReferencedResourceNotFound: type('IST0101', 'ReferencedResourceNotFound', 'Error', 'A resource being referenced does not exist.'),
  SchemaValidationError: type('IST0106', 'SchemaValidationError', 'Error', 'The resource has a schema validation error.'),
} as const satisfies Record<string, MessageType>;

export type MessageName = keyof typeof Messages;
