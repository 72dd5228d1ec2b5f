/** An input that cannot happen in a correct host: rejected, never folded into the state. */
export class QuorumInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuorumInputError';
  }
}
