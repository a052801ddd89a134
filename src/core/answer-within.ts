/**
 * What `call` answers, or an error once `timeout` ms pass without an answer. A late call is left
 * to finish on its own: callers bound calls that are harmless to let run.
 */
export async function answerWithin<T>(timeout: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
  });
  try {
    return await Promise.race([call(), late]);
  } finally {
    clearTimeout(timer);
  }
}
