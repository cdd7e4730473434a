import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_CODE_NAMES } from '../../contracts/errors.js';

/** The table of failure codes in docs/call-record.md, row by row: code, whose fault, whether it is retried. */
function documentedCodeTable(): { code: string; fault: string; retried: string }[] {
  const page = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'call-record.md'), 'utf8');
  const start = page.indexOf('| code | fault | retried | when |');
  if (start < 0) throw new Error('docs/call-record.md has no table of failure codes');
  const rows = page.slice(start).split('\n\n')[0]!.split('\n').slice(2);
  return rows.map((row) => {
    const [, code, fault, retried] = row.split('|').map((cell) => cell.trim());
    return { code: (code ?? '').replaceAll('`', ''), fault: fault ?? '', retried: retried ?? '' };
  });
}

describe('the table of failure codes in docs/call-record.md', () => {
  it('lists every code of contracts/errors.ts once, and nothing else', () => {
    const listed = documentedCodeTable().map((row) => row.code);

    expect([...listed].sort()).toEqual([...ERROR_CODE_NAMES].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('says whose fault each code is and whether it is retried, as contracts/errors.ts does', () => {
    const table = documentedCodeTable();

    for (const row of table) {
      const code = ERROR_CODES[row.code as keyof typeof ERROR_CODES];
      expect(row.fault, row.code).toBe(code.fault);
      expect(row.retried, row.code).toBe(code.retryable ? 'before the phone rings' : 'no');
    }
  });
});
