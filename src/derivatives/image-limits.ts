/** Decoding more pixels than this (8,000 × 5,000) needs about 120 MB for RGB alone. */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;
