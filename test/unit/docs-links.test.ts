import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDocs,
  checkMarkdown,
  formatProblems,
  headingSlugs,
  repositoryView,
  type RepoView,
} from '../support/markdown-links.js';

const root = join(import.meta.dirname, '..', '..');

/** README.md and every page of docs/. */
function documentation(): string[] {
  const pages = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...pages];
}

/** A repository held in memory: file paths and their text. */
function memoryRepo(files: Record<string, string>): RepoView {
  const paths = Object.keys(files);
  const isFolder = (path: string): boolean => path === '' || paths.some((file) => file.startsWith(`${path}/`));
  return {
    exists: (path) => path in files || isFolder(path),
    entries: (path) => {
      if (!isFolder(path)) return undefined;
      const prefix = path === '' ? '' : `${path}/`;
      return [...new Set(paths.filter((file) => file.startsWith(prefix)).map((file) => file.slice(prefix.length).split('/')[0]!))];
    },
    read: (path) => files[path],
  };
}

describe('the documentation', () => {
  it('has a page for each topic beside the README', () => {
    const pages = documentation();

    expect(pages.length).toBeGreaterThan(10);
  });

  it('links only to files and headings that exist, and names only repository paths that exist', () => {
    const problems = formatProblems(checkDocs(documentation(), repositoryView(root)));

    expect(problems).toEqual([]);
  });
});

describe('the documentation check', () => {
  const repo = memoryRepo({
    'docs/guide.md': '# Guide\n\n## The `roomline` command: a tour\n\n## Costs\n\n## Costs\n',
    'worker/config.ts': '',
    'contracts/rooms/janus.ts': '',
    'bot-page/media/encoded-relay.ts': '',
    'bot-page/sip/sip-leg.ts': '',
    'package.json': '{}',
  });

  it('finds anchors by GitHub slug rules, repeated headings numbered', () => {
    expect(headingSlugs('# Guide\n\n## The `roomline` command: a tour\n\n## Costs\n\n## Costs\n')).toEqual([
      'guide',
      'the-roomline-command-a-tour',
      'costs',
      'costs-1',
    ]);
    expect(headingSlugs("#### `npm run smoke:daily`, `npm run smoke:vonage`: a live room\n### The lab's Chime stand-in")).toEqual([
      'npm-run-smokedaily-npm-run-smokevonage-a-live-room',
      'the-labs-chime-stand-in',
    ]);
    expect(headingSlugs('## States: QUEUED → CLAIMED — and [links](x.md)\n```\n# not a heading\n```')).toEqual([
      'states-queued--claimed--and-links',
    ]);
  });

  it('accepts links, anchors and paths that exist, placeholders and globs included', () => {
    const page = [
      'See [the guide](guide.md), [its tour](guide.md#the-roomline-command-a-tour), [costs](guide.md#costs-1),',
      '[the config](../worker/config.ts), [AWS](https://aws.amazon.com/#x) and [this page](#start).',
      '',
      '## Start',
      '',
      'Files: `worker/config.ts`, `contracts/rooms/<provider>.ts`, `bot-page/media/encoded-relay*.ts`, `package.json`,',
      '`node worker/config.ts:12`, `dist/bot-page` (build output), `roomline/trunks/<trunk>` (not a path).',
      '',
      '| folder | what |',
      '| --- | --- |',
      '| `bot-page/` | `sip/` (`sip-leg.ts`), `media/` |',
      '',
      '```sh',
      'node worker/gone.ts   # code blocks are commands, not promises',
      '```',
    ].join('\n');

    expect(formatProblems(checkMarkdown('docs/page.md', page, repo))).toEqual([]);
  });

  it('reports every broken link, anchor and path at once, each with its page and line', () => {
    const page = [
      '# Page',
      '',
      'A [missing page](nowhere.md) and [a missing heading](guide.md#prices).',
      'A path that moved: `worker/call-session.ts`, and one in a command: `npx tsx bench/run.ts`.',
      '[No such heading here](#nothing), a folder `infra/janus-image/`, a glob `bot-page/rooms/*.ts`.',
      '',
      '| folder | what |',
      '| --- | --- |',
      '| `bot-page/` | `sip/` (`sip-call.ts`) |',
      '',
      '**`worker/`**: the worker,',
      '- its call: `call-sesion.ts`;',
      '',
      'Past the blank line `call-sesion.ts` is not in the map.',
    ].join('\n');

    expect(formatProblems(checkMarkdown('docs/page.md', page, repo))).toEqual([
      'docs/page.md:3: link `nowhere.md`: docs/nowhere.md does not exist',
      'docs/page.md:3: link `guide.md#prices`: docs/guide.md has no heading #prices',
      'docs/page.md:4: `worker/call-session.ts` does not exist',
      'docs/page.md:4: `bench/run.ts` does not exist',
      'docs/page.md:5: link `#nothing`: docs/page.md has no heading #nothing',
      'docs/page.md:5: `infra/janus-image/` does not exist',
      'docs/page.md:5: `bot-page/rooms/*.ts`: nothing in bot-page/rooms matches *.ts',
      'docs/page.md:9: `sip-call.ts` (in the row of `bot-page/`) does not exist: looked for bot-page/sip-call.ts, bot-page/sip/sip-call.ts',
      'docs/page.md:12: `call-sesion.ts` (in the row of `worker/`) does not exist: looked for worker/call-sesion.ts',
    ]);
  });

  it('reports a page that does not exist', () => {
    expect(formatProblems(checkDocs(['docs/missing.md'], repo))).toEqual(['docs/missing.md:0: the page does not exist']);
  });
});
