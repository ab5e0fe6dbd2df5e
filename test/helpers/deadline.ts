/**
 * How long a spec waits before it calls something lost. These deadlines only detect a hang; they
 * never measure speed. A slower build (the ASan run sets RX_MEMIF_TEST_TIME_SCALE) or a loaded CI
 * machine stretches them instead of turning slowness into a failure.
 */
const scale = Math.max(1, Number(process.env.RX_MEMIF_TEST_TIME_SCALE) || 1);

export const deadline = (ms: number): number => ms * scale;

/**
 * Polls `condition` every `everyMs` until it holds; after {@link deadline}(ms) rejects with
 * `failure(waited)`, `waited` being the stretched wait in ms. The `until` helpers of the specs
 * are this with their own arguments and messages.
 */
export const pollUntil = async (
  condition: () => boolean,
  ms: number,
  failure: (waited: number) => string,
  everyMs = 2,
): Promise<void> => {
  const waited = deadline(ms);
  const end = performance.now() + waited;
  while (!condition()) {
    if (performance.now() > end) throw new Error(failure(waited));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};
