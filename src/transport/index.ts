export type {
  AppendStats,
  FollowerStats,
  PeerTransport,
  TransportConfig,
  TransportHandlers,
  TransportTls,
} from './types.js';
export { createPeerTransport } from './transport.js';
export { FrameError, encodeFrames, FrameDecoder } from './codec.js';
export { LATENCY_MINIMUM_UNSET } from './stats.js';
