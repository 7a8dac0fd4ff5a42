// How big the fault tests are. `npm test` (CI) runs them at `ci` size, large enough for
// every fault to land mid-batch at each kill point and, for the churn, in start-up
// windows; `npm run soak` runs them at `full` size first, the size RELIABILITY.md
// records. Set FAULT_SCALE=full to run one spec at full size.
const SCALES = ['ci', 'full'] as const;
export type FaultScale = (typeof SCALES)[number];

function readScale(): FaultScale {
  const value = process.env.FAULT_SCALE ?? 'ci';
  if (!(SCALES as readonly string[]).includes(value)) throw new Error(`FAULT_SCALE must be one of ${SCALES.join(', ')}, not ${JSON.stringify(value)}`);
  return value as FaultScale;
}

export const FAULT_SCALE: FaultScale = readScale();

/** The value for the current scale. */
export const sized = <T>(sizes: Record<FaultScale, T>): T => sizes[FAULT_SCALE];
