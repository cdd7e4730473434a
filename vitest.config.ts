import { defineConfig } from 'vitest/config';

/** node:sqlite (used by the SQS emulator) warns that it is experimental, in every test file that starts the lab. */
const execArgv = ['--disable-warning=ExperimentalWarning'];

/**
 * Four groups, all run by `npm test`: unit (no I/O), integration (SQS/DynamoDB emulators), infra (CDK synth and
 * cdk-nag), e2e (the real lab: Janus, Chromium, baresip, emulators). End-to-end files run one at a time: each starts
 * its own lab and the machine has two cores.
 */
export default defineConfig({
  test: {
    // each file's time at the end of a run, beside the usual report
    reporters: ['default', './test/support/file-times-reporter.ts'],
    projects: [
      // a timeout here guards against a hang, not a speed: some unit tests crunch signals for seconds on a busy machine
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000, execArgv } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000, execArgv } },
      {
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000, execArgv },
      },
      // the deployed images, built with podman (npm run test:images; not part of npm test)
      { test: { name: 'images', include: ['test/images/**/*.test.ts'], testTimeout: 3_600_000, hookTimeout: 600_000, fileParallelism: false, execArgv } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          execArgv,
        },
      },
    ],
  },
});
