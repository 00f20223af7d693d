#!/usr/bin/env node
// The `trellis` command: runs the compiled CLI (build with `npm run build`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`trellis: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
