import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints, after a run, how long each test file took (its tests and hooks, the lab's start and stop included for an
 * end-to-end file), longest first, with the project's total: where a run's time goes, read off every CI log.
 */
export default class FileTimesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (testModules.length === 0) return;
    const rows = testModules
      .map((m) => ({ file: m.moduleId.slice(m.project.config.root.length + 1), project: m.project.name, ms: m.diagnostic().duration, ok: m.ok() }))
      .sort((a, b) => b.ms - a.ms);
    const total = rows.reduce((sum, r) => sum + r.ms, 0);
    const width = Math.max(...rows.map((r) => r.file.length));
    const lines = rows.map((r) => `  ${r.file.padEnd(width)}  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.project}${r.ok ? '' : '  FAILED'}`);
    process.stdout.write(`\nTime per test file (tests and hooks):\n${lines.join('\n')}\n  ${'total'.padEnd(width)}  ${(total / 1000).toFixed(1).padStart(7)} s\n`);
  }
}
