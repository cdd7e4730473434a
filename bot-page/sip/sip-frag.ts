/**
 * The status line a transfer's NOTIFY carries (its body is message/sipfrag, e.g. "SIP/2.0 200 OK"), as the
 * transferor's leg reports it; undefined for a body that holds none.
 */
export function sipFragStatus(content: string): { code: number; reason?: string } | undefined {
  const status = /^SIP\/2\.0\s+(\d{3})\s*([^\r\n]*)/.exec(content.trim());
  if (status === null) return undefined;
  return { code: Number(status[1]), ...(status[2] ? { reason: status[2] } : {}) };
}
