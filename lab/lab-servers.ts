import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Emulators } from './emulators.js';
import { JanusServer, LAB_JANUS_WS_PORT } from './janus-server.js';
import type { LabOptions } from './lab-options.js';
import type { LabNetns } from './netns.js';
import { SipFailures } from './sip-failures.js';
import { SipPhone } from './sip-phone.js';
import { SipRegistrar } from './sip-registrar.js';
import { SipTrunk } from './sip-trunk.js';
import { makeLabTlsCerts } from './tls-certs.js';

/** The servers of a lab, each started but not yet ready. */
export interface LabServers {
  readonly emulators: Emulators;
  /** The room's Janus (and the SIP leg's, without SIP-only nodes). */
  readonly janus: JanusServer;
  readonly phone: SipPhone;
  readonly failures: SipFailures;
  /** The authenticating trunk (`LabOptions.trunk`). */
  readonly trunk: SipTrunk | undefined;
  /** The dial-in registrar (`LabOptions.dialIn`). */
  readonly registrar: SipRegistrar | undefined;
  /** The SIP-only Janus nodes (`LabOptions.janusSipNodes`), in the order the workers are given them. */
  readonly sipJanus: readonly JanusServer[];
}

/**
 * Starts the servers a lab runs, all at once: the SQS and DynamoDB emulators, the room's Janus and any SIP-only Janus
 * nodes (each with its own ports), the SIP phone, the failure simulator and, when asked, the trunk and the registrar.
 */
export async function startLabServers(netns: LabNetns, dir: string, options: LabOptions): Promise<LabServers> {
  // SIP over TLS between Janus and the trunk needs certificates at both ends
  const tls = options.trunk === true ? await makeLabTlsCerts(join(dir, 'tls')) : undefined;
  const sipsCertsDir = tls === undefined ? {} : { sipsCertsDir: tls.sofiaDir };
  // every node of the lab takes the same secrets, as the nodes of one deployment do
  const secrets = { apiSecret: randomBytes(18).toString('base64url'), tokenSecret: randomBytes(18).toString('base64url') };
  const visibilityTimeoutS = options.visibilityTimeoutS ?? 30;
  const [emulators, janus, phone, failures, trunk, registrar, ...sipJanus] = await Promise.all([
    Emulators.start({ maxReceives: options.maxReceives ?? 3, visibilityTimeoutS }),
    JanusServer.start({ netns, dir, secrets, ...sipsCertsDir }),
    SipPhone.start({ netns, dir, ...options.phone }),
    SipFailures.start({ netns, dir }),
    tls === undefined ? undefined : SipTrunk.start({ netns, dir, tls }),
    options.dialIn === true ? SipRegistrar.start({ netns, dir }) : undefined,
    ...Array.from({ length: options.janusSipNodes ?? 0 }, (_, i) =>
      JanusServer.start({
        netns,
        dir,
        secrets,
        ...sipsCertsDir,
        name: `janus-sip-${i + 1}`,
        wsPort: LAB_JANUS_WS_PORT + 1 + i,
        rtpPortRange: `${40000 + i * 2000}-${40000 + i * 2000 + 1999}`,
        sipRtpPortRange: `${31000 + i * 1000}-${31000 + i * 1000 + 999}`,
        rooms: false,
      }),
    ),
  ]);
  return { emulators, janus, phone, failures, trunk, registrar, sipJanus };
}
