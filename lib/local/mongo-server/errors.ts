/** A command failure, answered as `{ ok: 0, code, codeName, errmsg }` like MongoDB does. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}
