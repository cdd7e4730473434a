/** A SIP request as the phone received it (from baresip's SIP trace). */
export interface ReceivedInvite {
  readonly callId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly sdp: string;
}

/**
 * Every request of `method` (INVITE, CANCEL, BYE...) in a SIP trace (baresip's `-s` log), with its headers and body;
 * retransmissions (the same Call-ID and CSeq) counted once.
 */
export function receivedRequests(log: string, method: string): ReceivedInvite[] {
  const lines = log.split('\n').map((l) => l.replace(/\r$/, ''));
  const invites = new Map<string, ReceivedInvite>();
  const requestLine = new RegExp(`^${method} sip:\\S+ SIP\\/2\\.0$`);
  for (let i = 0; i < lines.length; i++) {
    if (!requestLine.test(lines[i] ?? '')) continue;
    const headers: Record<string, string> = {};
    let j = i + 1;
    for (; j < lines.length && (lines[j] ?? '') !== ''; j++) {
      const at = (lines[j] ?? '').indexOf(':');
      if (at <= 0) continue;
      const name = (lines[j] ?? '').slice(0, at).trim();
      const value = (lines[j] ?? '').slice(at + 1).trim();
      // a header that comes more than once (Via, Record-Route) keeps every value, as one comma-separated list
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const length = Number(headers['Content-Length'] ?? '0');
    let sdp = '';
    for (j = j + 1; j < lines.length && sdp.length < length; j++) sdp += `${lines[j]}\r\n`;
    const key = `${headers['Call-ID'] ?? ''} ${headers['CSeq'] ?? ''}`;
    if (!invites.has(key)) invites.set(key, { callId: headers['Call-ID'] ?? '', headers, sdp });
  }
  return [...invites.values()];
}
