import type { Command } from 'commander';
import { loadWorkerConfig } from '../config.js';
import { SHUTDOWN_DEADLINE_MS, Worker } from '../worker.js';
import { EXIT } from './exit-codes.js';

/** `roomline worker`: one warm worker, configured from the environment, until its call is done or it is stopped. */
export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run one warm worker: take one call from the queue, run it, exit (SIGTERM hangs up and exits)')
    .action(async () => {
      const config = loadWorkerConfig();
      const worker = new Worker(config);
      const stop = (signal: string) => {
        worker.stop(signal);
        // the last resort if a hangup hangs: ECS kills the task after its stop timeout anyway
        setTimeout(() => process.exit(EXIT.failed), SHUTDOWN_DEADLINE_MS - 500).unref();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      if (process.send !== undefined) process.once('disconnect', () => stop('parent process gone'));
      const code = await worker.run();
      process.exitCode = code;
      if (process.connected) process.disconnect();
      // everything is closed by now; should a stray handle keep the loop alive, do not linger as a zombie worker
      setTimeout(() => process.exit(code), 2_000).unref();
    });
}
