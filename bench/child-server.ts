/**
 * Both sides of running a benchmark's HTTP server in its own Node.js process: the child listens
 * on an ephemeral port of 127.0.0.1 and sends the port over IPC, and the parent starts it and
 * stops it. One process per server keeps the load generator and the other server off the event
 * loop being measured.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';

/** Message a child sends once it is listening. */
interface ListeningMessage {
  type: 'listening';
  port: number;
}

/** Message the parent sends to stop a child. */
const STOP_MESSAGE = 'stop';

/** Maximum wait for a child to start listening, or to exit after the parent sends "stop". */
const CHILD_TIMEOUT_MS = 30_000;

/** Reads a required environment variable in a child server. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`the environment variable ${name} is not set; start this server through bench/lookup.ts`);
  return value;
}

/**
 * Listens on 127.0.0.1 with an ephemeral port, sends the port to the parent, and closes the
 * server when the parent sends "stop" or disconnects. Exiting through process.exit lets
 * `--cpu-prof` write its profile.
 */
export async function serveForParent(http: FastifyInstance, close: () => Promise<void>): Promise<void> {
  if (process.send === undefined) throw new Error('this server runs as a child process of a benchmark and needs an IPC channel; start it through bench/lookup.ts');

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`closing the benchmark server failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (message) => {
    if (message === STOP_MESSAGE) stop();
  });
  process.on('disconnect', stop);

  await http.listen({ host: '127.0.0.1', port: 0 });
  const address = http.server.address();
  if (address === null || typeof address === 'string') throw new Error(`the server reported no TCP port (address: ${String(address)})`);
  const listening: ListeningMessage = { type: 'listening', port: address.port };
  process.send(listening);
}

export interface ChildServer {
  name: string;
  port: number;
  process: ChildProcess;
  /** Asks the child to close and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartChildOptions {
  name: string;
  /** TypeScript entry file, run through tsx. */
  script: string;
  env: NodeJS.ProcessEnv;
  /** Extra Node.js flags, such as --cpu-prof. */
  nodeFlags?: string[];
  cwd: string;
}

/** Starts a child server and resolves once it reports its port. */
export async function startChildServer(options: StartChildOptions): Promise<ChildServer> {
  const child = fork(options.script, [], {
    cwd: options.cwd,
    env: options.env,
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} server did not start listening within ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.on('message', (message: unknown) => {
      const listening = message as Partial<ListeningMessage>;
      if (listening.type === 'listening' && typeof listening.port === 'number') {
        clearTimeout(timer);
        resolve(listening.port);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} server exited before listening (exit code ${String(code)}, signal ${String(signal)}); see its output above`));
    });
  });

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  return {
    name: options.name,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.connected) child.send(STOP_MESSAGE);
      const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
