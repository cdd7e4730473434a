/**
 * A checker for what Markdown pages promise about the repository: every relative link leads to a file or folder (and
 * every `#anchor` into a Markdown page to one of its headings, by GitHub's slug rules), and every repository path a page
 * names in backticks exists. It reads the repository through a small view, so a test can give it pages and files of
 * its own; `repositoryView` is the view of a folder on disk.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

/** What the checker may ask of the repository; paths are relative to its root, with `/`. */
export interface RepoView {
  /** Whether a file or folder exists at `path`. */
  exists(path: string): boolean;
  /** The names in folder `path`, or undefined if it is not a folder. */
  entries(path: string): readonly string[] | undefined;
  /** The text of file `path`, or undefined if it is not a file. */
  read(path: string): string | undefined;
}

/** One broken promise of a page: where it is, and what is wrong. */
export interface DocProblem {
  readonly doc: string;
  /** 1-based. */
  readonly line: number;
  readonly problem: string;
}

/**
 * The repository's top-level folders: a backticked word is taken for a repository path when it starts with one of
 * these and a `/`. Build output (`dist/`) and installed packages are not repository paths.
 */
export const TOP_LEVEL_FOLDERS = [
  '.ci',
  'bench',
  'bin',
  'bot-page',
  'contracts',
  'docs',
  'infra',
  'lab',
  'scripts',
  'test',
  'types',
  'worker',
] as const;

/** Files at the repository's root that a backticked word may name on its own. */
export const ROOT_FILES = [
  'Dockerfile',
  'README.md',
  'cdk.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vitest.config.ts',
] as const;

/** A file or folder name as a folder map's row names it: `name.ext`, `sub/name.ext` or `sub/`. */
const FILE_LIKE = /^[\w.-]+(\/[\w.-]+)*(\.(ts|mjs|js|json|sh|html|md)|\/)$/;

/**
 * GitHub's anchor for a heading (github-slugger): the heading's text as rendered (inline code, links and emphasis
 * reduced to their text), lower-cased, every character but letters, marks, digits, `_`, `-` and spaces dropped, and
 * spaces turned into `-`. A repeated slug gets `-1`, `-2`... in the order the headings come.
 */
export function headingSlugs(markdown: string): string[] {
  const seen = new Map<string, number>();
  return headings(markdown).map(({ text }) => {
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  });
}

/** The slug of one heading's Markdown text, without the repeat suffix. */
export function slug(headingMarkdown: string): string {
  const rendered = headingMarkdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`+/g, '')
    .replace(/\*+/g, '');
  return rendered
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Checks one page, `doc` (its path from the repository root), against the repository. */
export function checkMarkdown(doc: string, markdown: string, repo: RepoView): DocProblem[] {
  const problems: DocProblem[] = [];
  const text = blankFencedBlocks(markdown);
  const lineAt = lineIndex(text);
  const report = (offset: number, problem: string): void => {
    problems.push({ doc, line: lineAt(offset), problem });
  };

  const spans = codeSpans(text);
  const prose = blankRanges(text, spans);
  for (const link of links(prose)) {
    const problem = checkLink(doc, link.target, repo, markdown);
    if (problem !== undefined) report(link.offset, problem);
  }
  for (const span of spans) {
    for (const word of pathWords(span.content)) {
      const problem = checkPath(word, repo);
      if (problem !== undefined) report(span.offset, problem);
    }
  }
  for (const row of folderMapRows(text, spans)) {
    for (const { word, offset } of row.names) {
      const candidates = [row.folder, ...row.subfolders(offset)].map((folder) => posix.join(folder, word));
      if (!candidates.some((path) => repo.exists(stripSlash(path)))) {
        report(offset, `\`${word}\` (in the row of \`${row.folder}/\`) does not exist: looked for ${candidates.join(', ')}`);
      }
    }
  }
  return problems.sort((a, b) => a.line - b.line);
}

/** Checks every page; `docs` are paths from the repository root. */
export function checkDocs(docs: readonly string[], repo: RepoView): DocProblem[] {
  return docs.flatMap((doc) => {
    const markdown = repo.read(doc);
    return markdown === undefined ? [{ doc, line: 0, problem: 'the page does not exist' }] : checkMarkdown(doc, markdown, repo);
  });
}

/** `doc:line: problem`, one per line, as a test failure lists them. */
export function formatProblems(problems: readonly DocProblem[]): string[] {
  return problems.map((p) => `${p.doc}:${p.line}: ${p.problem}`);
}

/** The repository at `root` on disk. */
export function repositoryView(root: string): RepoView {
  return {
    exists: (path) => existsSync(join(root, path)),
    entries: (path) => {
      const full = join(root, path);
      return existsSync(full) && statSync(full).isDirectory() ? readdirSync(full) : undefined;
    },
    read: (path) => {
      const full = join(root, path);
      return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
    },
  };
}

function checkLink(doc: string, target: string, repo: RepoView, docMarkdown: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  const hash = target.indexOf('#');
  const pathPart = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = pathPart === '' ? doc : posix.normalize(posix.join(posix.dirname(doc), decodeURI(pathPart)));
  if (resolved.startsWith('..') || posix.isAbsolute(resolved)) return `link \`${target}\` leaves the repository`;
  if (resolved !== doc && !repo.exists(stripSlash(resolved))) return `link \`${target}\`: ${resolved} does not exist`;
  if (anchor === undefined || anchor === '' || !resolved.endsWith('.md')) return undefined;
  const page = resolved === doc ? docMarkdown : repo.read(resolved);
  if (page === undefined) return `link \`${target}\`: ${resolved} is not a file`;
  if (!headingSlugs(page).includes(anchor)) return `link \`${target}\`: ${resolved} has no heading #${anchor}`;
  return undefined;
}

/** Whether `path` (a backticked word taken for a repository path) exists; placeholders and `*` are allowed. */
function checkPath(word: string, repo: RepoView): string | undefined {
  const segments = stripSlash(word).split('/');
  let folder = '';
  for (const [index, segment] of segments.entries()) {
    if (/[<>{}…]/.test(segment)) {
      // a placeholder (`contracts/rooms/<provider>.ts`): the folder it stands in must exist
      return repo.entries(folder) === undefined ? `\`${word}\`: folder ${folder} does not exist` : undefined;
    }
    const last = index === segments.length - 1;
    if (segment.includes('*')) {
      const pattern = new RegExp(`^${segment.split('*').map(escapeRegExp).join('.*')}$`);
      const matches = (repo.entries(folder) ?? []).filter((name) => pattern.test(name));
      if (matches.length === 0) return `\`${word}\`: nothing in ${folder === '' ? 'the root' : folder} matches ${segment}`;
      if (last) return undefined;
      // a glob in the middle: the rest must exist under one of its matches
      const rest = segments.slice(index + 1).join('/');
      return matches.some((name) => checkPath(posix.join(folder, name, rest), repo) === undefined)
        ? undefined
        : `\`${word}\` does not exist`;
    }
    folder = folder === '' ? segment : `${folder}/${segment}`;
  }
  return repo.exists(folder) ? undefined : `\`${word}\` does not exist`;
}

/** The words of a code span that name repository paths (`node scripts/build.mjs` names one). */
function pathWords(content: string): string[] {
  return content
    .split(/\s+/)
    .map((word) =>
      word
        .replace(/^[("'[]+/, '')
        .replace(/[)"',;\]]+$/, '')
        .replace(/:\d+(:\d+)?$/, '')
        .replace(/^\.\//, ''),
    )
    .filter((word) => isRepositoryPath(word));
}

function isRepositoryPath(word: string): boolean {
  if ((ROOT_FILES as readonly string[]).includes(word)) return true;
  const slash = word.indexOf('/');
  return slash > 0 && (TOP_LEVEL_FOLDERS as readonly string[]).includes(word.slice(0, slash));
}

/**
 * Rows of a folder map: table rows whose first cell is one backticked top-level folder (`` `worker/` ``), or
 * paragraphs (with their list items, up to a blank line) that open with one in bold (`` **`worker/`** ``). The bare
 * file and folder names the row gives in backticks (`call-session.ts`, `aws/`, `rooms/index.ts`) are files of that
 * folder, or of a sub-folder the row named before them (`sip/` ... `sip-leg.ts`).
 */
function folderMapRows(
  text: string,
  spans: readonly CodeSpan[],
): { folder: string; names: { word: string; offset: number }[]; subfolders: (before: number) => string[] }[] {
  const rows: ReturnType<typeof folderMapRows> = [];
  const tableRow = /^\|\s*`([\w.-]+)\/`\s*\|.*$/gm;
  const paragraph = /^\*\*`([\w.-]+)\/`\*\*(?:.|\n(?![ \t]*\n))*/gm;
  for (const match of [...text.matchAll(tableRow), ...text.matchAll(paragraph)]) {
    const folder = match[1]!;
    if (!(TOP_LEVEL_FOLDERS as readonly string[]).includes(folder)) continue;
    const start = match.index;
    const end = start + match[0].length;
    const inRow = spans.filter((span) => span.offset > start + match[0].indexOf('`' + folder) && span.offset < end);
    const names = inRow
      .map((span) => ({ word: span.content.trim(), offset: span.offset }))
      .filter(({ word }) => FILE_LIKE.test(word) && !isRepositoryPath(word));
    rows.push({
      folder,
      names,
      subfolders: (before) =>
        names.filter((name) => name.offset < before && name.word.endsWith('/')).map((name) => posix.join(folder, name.word)),
    });
  }
  return rows;
}

interface CodeSpan {
  /** Offset of the opening backtick in the page. */
  readonly offset: number;
  readonly length: number;
  readonly content: string;
}

/**
 * Inline code spans (CommonMark: a run of backticks closed by a run of the same length). A span may wrap onto the next
 * line but never crosses a blank line, so an unclosed backtick spoils only its own paragraph.
 */
function codeSpans(text: string): CodeSpan[] {
  const spans: CodeSpan[] = [];
  const pattern = /(?<!`)(`+)(?!`)((?:[^`\n]|\n(?![ \t]*\n)|`+(?!`))*?)(?<!`)\1(?!`)/g;
  for (const match of text.matchAll(pattern)) {
    spans.push({ offset: match.index, length: match[0].length, content: match[2]!.replace(/\n/g, ' ').trim() });
  }
  return spans;
}

/** Inline links and images `[text](target)` and reference definitions `[label]: target`, outside code. */
function links(prose: string): { target: string; offset: number }[] {
  const found: { target: string; offset: number }[] = [];
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g)) {
    found.push({ target: match[1]!, offset: match.index });
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/gm)) {
    found.push({ target: match[1]!, offset: match.index });
  }
  return found;
}

/** ATX headings outside fenced code, with their Markdown text. */
function headings(markdown: string): { text: string }[] {
  return [...blankFencedBlocks(markdown).matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)].map((m) => ({
    text: m[1]!,
  }));
}

/** The page with every fenced code block's lines emptied, so offsets and line numbers stay as they were. */
function blankFencedBlocks(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | undefined;
  return lines
    .map((line) => {
      const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (fence === undefined && opening !== null) {
        fence = opening[1]!;
        return '';
      }
      if (fence !== undefined) {
        if (new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(line)) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

function blankRanges(text: string, spans: readonly CodeSpan[]): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.offset) + text.slice(span.offset, span.offset + span.length).replace(/[^\n]/g, ' ');
    at = span.offset + span.length;
  }
  return out + text.slice(at);
}

function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

function stripSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
