// deploy/local/lib/redis.mjs: what `npm start` does about Redis. Run in a child node process
// (an ES module; jest runs CommonJS).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MODULE = path.resolve(__dirname, '../local/lib/redis.mjs');
const STACK = path.resolve(__dirname, '../local/lib/stack.mjs');

function evaluate<T>(expression: string): T {
  const script = `
    const m = await import(${JSON.stringify(MODULE)});
    const stack = await import(${JSON.stringify(STACK)});
    process.stdout.write(JSON.stringify(await (${expression})));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as T;
}

interface Plan {
  action: string;
  args?: string[];
  message?: string;
}

describe('Redis of the local stack', () => {
  it('uses a Redis that already answers and never starts (or owns) one', () => {
    expect(
      evaluate<Plan>(
        `m.redisPlan({ port: 6379, ownPid: null, answers: true, binary: '/usr/bin/redis-server' })`,
      ),
    ).toEqual({ action: 'reuse' });
  });

  it('starts redis-server without persistence on loopback when none answers', () => {
    const plan = evaluate<Plan>(
      `m.redisPlan({ port: 16390, ownPid: null, answers: false, binary: '/usr/bin/redis-server' })`,
    );
    expect(plan.action).toBe('start');
    expect(plan.args).toEqual([
      '--port',
      '16390',
      '--save',
      '',
      '--appendonly',
      'no',
      '--bind',
      '127.0.0.1',
    ]);
  });

  it('fails with the install command when none answers and redis-server is missing', () => {
    const plan = evaluate<Plan>(
      `m.redisPlan({ port: 6379, ownPid: null, answers: false, binary: null })`,
    );
    expect(plan.action).toBe('fail');
    expect(plan.message).toContain('apt-get install redis-server');
    expect(plan.message).toContain('127.0.0.1:6379');
  });

  it('keeps a Redis it started itself as its own (stop stops it)', () => {
    expect(
      evaluate<Plan>(`m.redisPlan({ port: 6379, ownPid: 4242, answers: true, binary: null })`),
    ).toEqual({ action: 'running', pid: 4242 });
  });

  it('finds redis-server on PATH', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-bin-'));
    const bin = path.join(dir, 'redis-server');
    fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    try {
      expect(evaluate<string>(`m.findRedisServer(${JSON.stringify(dir)})`)).toBe(bin);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a component of the stack, started first', () => {
    expect(evaluate<string[]>('stack.COMPONENTS')[0]).toBe('redis');
  });
});
