// The same etcdctl contract suite against a real etcd 3.4 (--enable-v2): the client is
// interoperable, not tuned to our server.
import { etcdctlSuite } from './suite.js';

etcdctlSuite('real-3.4');
