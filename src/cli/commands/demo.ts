// `trellis demo`: analyze the Bookinfo sample and run its services locally (filled in once the apps land).

import type { Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the Bookinfo demo',
  usage: 'Usage: trellis demo',
  async run() {
    return 0;
  },
};
