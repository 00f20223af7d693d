// Placeholder: validators for this API group are being written.
import type { KindValidator } from './validator.js';

export const maistraValidators: Record<string, KindValidator> = {};
