// The etcdctl contract suite against a fresh member of this project's server (bin/etcd).
import { etcdctlSuite } from './suite.js';

etcdctlSuite('ours');
