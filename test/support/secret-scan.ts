/**
 * A scanner for secrets in what a system wrote: logs, records, events, command output. Each secret is looked for as
 * written and in the encodings a careless line would carry it in (JSON-escaped, URL-encoded, base64), so a secret is
 * not missed for having been encoded on its way out. Usable by any test with a set of secrets and the texts to search.
 */
export interface Secret {
  /** What it is, for the report (never the value). */
  readonly name: string;
  readonly value: string;
}

export interface ScannedText {
  /** Where the text comes from, e.g. a log file's name. */
  readonly source: string;
  readonly text: string;
}

export interface SecretFinding {
  readonly secret: string;
  readonly source: string;
  /** 1-based line of the first occurrence. */
  readonly line: number;
  /** How it was written: raw, json, url or base64. */
  readonly form: string;
}

/** The forms a secret may be found in; forms equal to the raw one are left out. */
export function secretForms(value: string): { form: string; text: string }[] {
  const forms = [
    { form: 'raw', text: value },
    { form: 'json', text: JSON.stringify(value).slice(1, -1) },
    { form: 'url', text: encodeURIComponent(value) },
    { form: 'base64', text: Buffer.from(value).toString('base64').replace(/=+$/, '') },
    { form: 'base64url', text: Buffer.from(value).toString('base64url') },
  ];
  return forms.filter((f, i) => i === 0 || (f.text !== value && forms.findIndex((g) => g.text === f.text) === i));
}

/** Every place a secret occurs in the texts; empty when none does. Secrets shorter than 6 characters are refused. */
export function scanForSecrets(texts: readonly ScannedText[], secrets: readonly Secret[]): SecretFinding[] {
  for (const secret of secrets) {
    if (secret.value.length < 6) throw new Error(`secret ${secret.name} is too short to be searched for reliably`);
  }
  const findings: SecretFinding[] = [];
  for (const { source, text } of texts) {
    for (const secret of secrets) {
      for (const { form, text: needle } of secretForms(secret.value)) {
        const at = text.indexOf(needle);
        if (at >= 0) findings.push({ secret: secret.name, source, line: text.slice(0, at).split('\n').length, form });
      }
    }
  }
  return findings;
}
