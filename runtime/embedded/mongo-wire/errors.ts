/** Command failures with the numeric code and codeName that a real mongod returns for the same case. */

import type { Document } from 'bson';

export const ERROR_CODES = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  InvalidLength: 16,
  NamespaceNotFound: 26,
  CursorNotFound: 43,
  MaxTimeMSExpired: 50,
  CommandNotFound: 59,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  CommandNotSupported: 115,
  UnsupportedOpQueryCommand: 352,
  DuplicateKey: 11000,
} as const;

export type ErrorCodeName = keyof typeof ERROR_CODES;

/** A command failure, sent as an `ok: 0` reply. The connection stays open. */
export class CommandError extends Error {
  readonly codeName: ErrorCodeName;
  readonly code: number;

  constructor(codeName: ErrorCodeName, message: string) {
    super(message);
    this.name = 'CommandError';
    this.codeName = codeName;
    this.code = ERROR_CODES[codeName];
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
  }
}
