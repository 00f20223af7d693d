// Placeholder: validators for this API group are being written.
import type { KindValidator } from './validator.js';

export const gatewayApiValidators: Record<string, KindValidator> = {};
