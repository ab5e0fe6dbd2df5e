/**
 * How long a spec waits before it calls something lost. These deadlines only detect a hang; they
 * never measure speed. A slower build (the ASan run sets RX_MEMIF_TEST_TIME_SCALE) or a loaded CI
 * machine stretches them instead of turning slowness into a failure.
 */
const scale = Math.max(1, Number(process.env.RX_MEMIF_TEST_TIME_SCALE) || 1);

export const deadline = (ms: number): number => ms * scale;
