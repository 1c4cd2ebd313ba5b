// A real redis-server for the companion's Redis tests and its benchmark: on a free loopback
// port, without persistence, stopped by the caller (and killed if this process exits first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

const REDIS = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

/** A port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts redis-server on `port` and resolves once it accepts connections. */
export async function startRedis(port: number): Promise<ChildProcess> {
  if (!existsSync(REDIS)) throw new Error(`redis-server not found at ${REDIS}: install it (apt-get install redis-server) or set REDIS_SERVER_PATH`);
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  // A crash of this process (an uncaught error) must not leave redis-server running.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  child.once('exit', () => process.off('exit', orphan));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return child;
}

/** Stops it and resolves once it has exited. */
export const stopRedis = (child: ChildProcess) => new Promise<void>((resolve) => {
  if (child.exitCode !== null) return resolve();
  child.once('exit', () => resolve());
  child.kill('SIGTERM');
});
