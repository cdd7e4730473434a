import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The commit a benchmark result measured, and whether the tree held changes not in it. */
export interface MeasuredCommit {
  /** `git rev-parse HEAD`, or `unknown` outside a git checkout. */
  readonly commit: string;
  /** Tracked files differed from the commit (`git status --porcelain --untracked-files=no` printed something). */
  readonly dirty: boolean;
}

/** The commit checked out at `root`, and whether its tracked files were changed. */
export async function measuredCommit(root: string): Promise<MeasuredCommit> {
  try {
    const [head, status] = await Promise.all([
      run('git', ['rev-parse', 'HEAD'], { cwd: root }),
      run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root }),
    ]);
    return { commit: head.stdout.trim(), dirty: status.stdout.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
