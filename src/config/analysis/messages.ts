// The config messages analyzers report, by name (Messages.ReferencedResourceNotFound): the config part of the code
// catalogue (src/errors/catalogue.ts), where Istio's IST codes and Trellis's TRL00xx/TRL01xx codes are defined.

import { ConfigMessages } from '../../errors/catalogue.js';

export const Messages = ConfigMessages;

export type MessageName = keyof typeof Messages;
