/**
 * The member as the peer port sees it (joins, removals, the member list, the leader's peer URL).
 */
import type { Member } from './member.js';
import type { PeerCluster } from './peer-port.js';

export function peerClusterFor(member: Member): PeerCluster {
  return {
    clusterId: () => member.clusterId(),
    selfClientUrl: () => member.self.clientUrls[0] ?? '',
    // No leader known: answered here, where join/remove fail with 300.
    leaderPeerUrlIfFollower: () => (member.isLeader() ? null : (member.leader()?.peerUrls[0] ?? null)),
    join: (request) => member.join(request),
    removeByName: async (name) => {
      const target = member.memberByName(name);
      if (target === null) return false;
      await member.removeMember(target.id, 'explicit');
      return true;
    },
    commitIndex: () => member.raftIndex(),
    members: () => member.members().map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls })),
  };
}
