/**
 * What the serializer's methods return: a Promise, which must be awaited before the answer is
 * sent. `JSON.stringify` turns a forgotten Promise into `{}` without a word, so this one refuses
 * to be turned into JSON and names the missing `await` instead.
 */
export class Serialization<T> extends Promise<T> {
  // `then()` and `await` give plain Promises: only the serializer's own return value refuses.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /** The serializer's work, as a Serialization. */
  static of<T>(work: Promise<T>): Serialization<T> {
    return new Serialization<T>((resolve, reject) => work.then(resolve, reject));
  }

  toJSON(): never {
    throw new TypeError(
      'AttachmentSerializer returned a Promise that was not awaited: ' +
        'write `await serializer.serialize(...)` before sending the answer',
    );
  }
}
