// Typed errors with stable codes. Configuration and zone errors carry where they come from, so
// every message an operator sees reads `file:line: reason`.

export type ErrorCode =
  | 'ERR_ZONE_SYNTAX' // a zone file line that cannot be parsed
  | 'ERR_ZONE_CONTENT' // parsed, but the zone is not valid (no SOA, CNAME and other data, ...)
  | 'ERR_ZONE_IO' // a zone file that cannot be read
  | 'ERR_POOLS' // a pools file (<origin>.pools.yaml) that is not valid
  | 'ERR_CONFIG' // command line or configuration file
  | 'ERR_LISTEN' // an address that cannot be bound
  | 'ERR_WORKER' // a worker process (--workers) that could not start
  | 'ERR_JOURNAL' // a journal record before its tail that does not read back (corruption)
  | 'ERR_NOT_DURABLE' // a change that could not be made durable (journal write or fsync failed): not applied
  | 'ERR_CLUSTER_UNAVAILABLE' // a change the cluster store (etcd) did not commit: not applied
  | 'ERR_DNSSEC_KEY'; // a signed zone's key file that cannot be read, made, or is of another algorithm

export class GslbError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'GslbError';
  }
}

/** An error at a place in a file; its message is `file:line: reason`. */
export class SourceError extends GslbError {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor(code: ErrorCode, file: string, line: number, reason: string) {
    super(code, line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}
