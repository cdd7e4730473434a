/** The `roomline` command's exit codes: a call that ended FAILED is told apart from a command that failed. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, callFailed: 3 } as const;
