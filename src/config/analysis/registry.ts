// Every cross-object analyzer, in the order they run.

import type { Analyzer } from './analyzer.js';

export const ANALYZERS: readonly Analyzer[] = [];
