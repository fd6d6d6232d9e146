import { createInterface } from 'node:readline/promises';
import type { Io } from './output';
import { runOps } from './ops-program';

/** `tenantry ...` / `npm run ops -- ...`: the process around runOps. */
const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  progressStream: process.stderr,
  async confirm(question) {
    // Nobody to ask (a pipe, a job): the answer is no, and --yes is the way to say yes.
    if (!process.stdin.isTTY) return false;
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await prompt.question(question)).trim());
    } finally {
      prompt.close();
    }
  },
};

void runOps(process.argv.slice(2), { io, env: process.env }).then((code) => {
  // kafkajs may hold sockets open a while after disconnect; the answer is complete here.
  process.stdout.write('', () => process.exit(code));
});
