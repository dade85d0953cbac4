/**
 * The one v2 error catalogue (spec §5). Every expected failure a client can see is an
 * EtcdError with one of these codes; its message text and HTTP status come from here only.
 */
export const ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NoMorePeer: 103,
  NotDir: 104,
  NodeExist: 105,
  KeyIsPreserved: 106,
  RootROnly: 107,
  DirNotEmpty: 108,
  ExistingPeerAddr: 109,
  Unauthorized: 110,
  ValueRequired: 200,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  ValueOrTTLRequired: 204,
  TimeoutNaN: 205,
  NameRequired: 206,
  IndexOrValueRequired: 207,
  IndexValueMutex: 208,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTTLRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
  StandbyInternal: 402,
  InvalidActiveSize: 403,
  InvalidRemoveDelay: 404,
  ClientInternal: 500,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const messages: Record<ErrorCodeValue, string> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  103: 'Reached the max number of peers in the cluster',
  104: 'Not a directory',
  105: 'Key already exists',
  106: 'The prefix of given key is a keyword in etcd',
  107: 'Root is read only',
  108: 'Directory not empty',
  109: 'Peer address has existed',
  110: 'The request requires user authentication',
  200: 'Value is Required in POST form',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  204: 'Value or TTL is required in POST form',
  205: 'The given timeout in POST form is not a number',
  206: 'Name is required in POST form',
  207: 'Index or value is required',
  208: 'Index and value cannot both be specified',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  400: 'watcher is cleared due to etcd recovery',
  401: 'The event in requested index is outdated and cleared',
  402: 'Standby Internal Error',
  403: 'Invalid active size',
  404: 'Standby remove delay',
  500: 'Client Internal Error',
};

export function errorMessage(code: ErrorCodeValue): string {
  return messages[code];
}

/** HTTP status for an error code (spec §5). */
export function httpStatusOf(code: ErrorCodeValue): number {
  switch (code) {
    case 100:
      return 404;
    case 101:
    case 105:
      return 412;
    case 102:
    case 108:
      return 403;
    case 110:
      return 401;
    default:
      return code >= 300 && code < 400 ? 500 : 400;
  }
}

export interface EtcdErrorJson {
  errorCode: number;
  message: string;
  cause?: string;
  index: number;
}

export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(
    readonly errorCode: ErrorCodeValue,
    override readonly cause: string = '',
    /** Current etcd index when the error happened (0 for request-validation errors before the store is consulted). */
    public index: number = 0,
  ) {
    super(messages[errorCode]);
  }

  get httpStatus(): number {
    return httpStatusOf(this.errorCode);
  }

  toJSON(): EtcdErrorJson {
    const json: EtcdErrorJson = { errorCode: this.errorCode, message: this.message, index: this.index };
    if (this.cause !== '') {
      return { errorCode: this.errorCode, message: this.message, cause: this.cause, index: this.index };
    }
    return json;
  }
}
