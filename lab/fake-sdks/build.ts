import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../worker/paths.js';
import { run } from '../child-process.js';

/**
 * Builds the bot page with the closed CPaaS SDKs replaced by the lab's typed fakes (`scripts/build.mjs
 * --fake-sdks=<dir>`, an esbuild alias of each SDK module to lab/fake-sdks/<provider>.ts) into `dir`, for a lab whose
 * workers serve it (ROOMLINE_BOT_PAGE_DIR). Needs the repository's sources: the build is for tests, never shipped.
 */
export async function buildFakeSdkBotPage(dir: string): Promise<void> {
  const root = packageRoot();
  const script = join(root, 'scripts', 'build.mjs');
  if (!existsSync(script) || !existsSync(join(root, 'lab', 'fake-sdks', 'daily.ts'))) {
    throw new Error('the bot page with fake SDKs is built from the repository\'s sources, which this installation lacks');
  }
  await run(process.execPath, [script, `--fake-sdks=${dir}`]);
}
