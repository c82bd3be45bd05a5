/** Any error caused by bad input (malformed file, unknown format, usage). The CLI prints its
 * message on one line and exits 2; nothing else about it reaches the user. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
