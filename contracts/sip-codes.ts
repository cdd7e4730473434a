import type { ErrorCode } from './errors.js';

/**
 * Maps a final SIP failure response (as reported by the Janus SIP plugin's `hangup` event before the call was
 * answered) to a Roomline error code. `0` or a missing code means no SIP response arrived at all; 904 is not sent by
 * any peer: it is what Janus's SIP stack (sofia-sip) reports when a proxy challenged its credentials again.
 */
export function errorCodeForSipFailure(sipCode: number | undefined): ErrorCode {
  if (sipCode === undefined || sipCode === 0) return 'SIP_UNREACHABLE';
  switch (sipCode) {
    case 486:
    case 600:
      return 'SIP_BUSY';
    case 603:
    case 607:
      return 'SIP_DECLINED';
    case 404:
    case 410:
    case 484:
    case 604:
      return 'SIP_NOT_FOUND';
    case 408:
    case 480:
    case 487:
      return 'SIP_NO_ANSWER';
    case 401:
    case 403:
    case 407:
    // sofia-sip (Janus's SIP stack) ends a request with 904 when the server challenges again after its credentials
    case 904:
      return 'SIP_AUTH_FAILED';
    case 502:
    case 503:
    case 504:
      return 'SIP_UNREACHABLE';
    default:
      return 'SIP_REJECTED';
  }
}

/** A short human description of common SIP status codes, for reasons in call records and CLI output. */
export function describeSipCode(sipCode: number): string {
  return (
    SIP_REASONS[sipCode] ??
    (sipCode >= 700
      ? 'Local Failure'
      : sipCode >= 600
      ? 'Global Failure'
      : sipCode >= 500
        ? 'Server Error'
        : sipCode >= 400
          ? 'Request Failed'
          : sipCode >= 200
            ? 'Success'
            : 'Provisional')
  );
}

const SIP_REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  480: 'Temporarily Unavailable',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  904: 'Credentials refused (no matching challenge)',
};
