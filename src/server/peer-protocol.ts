/** The peer protocol version 0.4.6 speaks (`/version` on the peer port, the join's version range). */
export const PEER_PROTOCOL_VERSION = '2';
