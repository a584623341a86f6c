/**
 * Hashed features of a request text for the learned router. Pure, allocation-light and bounded, so scoring
 * a request costs microseconds whatever its size.
 *
 * Design
 * - The text is normalised once into a scratch buffer: lower-cased, every digit becomes `0` (so "60" and
 *   "75" share n-grams), every run of other non-letters becomes one space. Only the first `headChars` and the
 *   last `tailChars` characters are read: requests put the task first and the question or the answer
 *   options last, and this caps the work for huge prompts.
 * - Three sparse families, each hashed with 32-bit FNV-1a into `2^hashBits` buckets (the "hashing trick":
 *   no vocabulary to ship): word unigrams, word bigrams, and character n-grams of the normalised text
 *   (`charNgram` characters, spaces included, so word boundaries count). Each family is scaled by
 *   1/√(number of n-grams it produced) so long and short prompts weigh alike; a family's seed keeps the
 *   families apart in the shared buckets.
 * - A few dense "shape" features after the hashed buckets (indices `2^hashBits + j`, see `DENSE_FEATURES`),
 *   computed in one pass over the same head/tail window: length (of the whole text), digit and symbol
 *   shares, multiple-choice options, numeric options, question marks, code, line count, mean word length,
 *   count of numbers. All are scaled to roughly 0..1.
 *
 * The same function serves training (`extractFeatures` materialises a sparse vector) and serving
 * (`dotFeatures` multiplies straight into a weight vector without allocating).
 */

/** How a text becomes features. Stored with the trained model so training and serving cannot disagree. */
export interface FeatureConfig {
  /** Hashed buckets = 2^hashBits. */
  readonly hashBits: number;
  /** Length of the character n-grams. */
  readonly charNgram: number;
  /** Characters read from the start of the text. */
  readonly headChars: number;
  /** Characters read from the end of the text (after the head). */
  readonly tailChars: number;
}

/** The feature configuration the shipped model was trained with unless the model says otherwise. */
export const DEFAULT_FEATURE_CONFIG: FeatureConfig = Object.freeze({
  hashBits: 13,
  charNgram: 4,
  headChars: 1200,
  tailChars: 400,
});

/** Names of the dense shape features, in index order after the hashed buckets. */
export const DENSE_FEATURES = [
  'log_length',
  'digit_share',
  'symbol_share',
  'multiple_choice',
  'numeric_options',
  'question_marks',
  'code',
  'lines',
  'mean_word_length',
  'numbers',
] as const;

/** Total feature count (hashed buckets plus dense features) for a configuration. */
export function featureCount(cfg: FeatureConfig): number {
  return (1 << cfg.hashBits) + DENSE_FEATURES.length;
}

/** A sparse feature vector; indices may repeat (values then add up). */
export interface SparseFeatures {
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SEED_WORD = 0x9e3779b1;
const SEED_BIGRAM = 0x85ebca77;
const SEED_CHAR = 0xc2b2ae3d;
const SPACE = 32;

// Scratch buffers shared by every call (Lambda runs one request at a time per container; no re-entrancy).
let norm = new Uint16Array(2048);
let wordHashes = new Int32Array(512);
let gramHashes = new Int32Array(2048);

function ensureScratch(chars: number): void {
  if (norm.length < chars + 2) {
    norm = new Uint16Array(chars + 2);
    wordHashes = new Int32Array(chars + 2);
    gramHashes = new Int32Array(chars + 2);
  }
}

/** Lower-cases one UTF-16 unit; digits → '0'; letters (including non-ASCII) kept; others → 0 (separator). */
function normChar(c: number): number {
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c + 32;
  if (c >= 48 && c <= 57) return 48;
  if (c >= 0xc0) return c >= 0x2000 && c <= 0x2bff ? 0 : c; // general punctuation/symbol blocks are separators
  return 0;
}

/** Writes the normalised head+tail of `text` into `norm`; returns its length. */
function normalise(text: string, cfg: FeatureConfig): number {
  const n = text.length;
  const budget = cfg.headChars + cfg.tailChars;
  ensureScratch(Math.min(n, budget) + 1);
  let len = 0;
  let prevSpace = true;
  const push = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const c = normChar(text.charCodeAt(i));
      if (c === 0) {
        if (!prevSpace) {
          norm[len++] = SPACE;
          prevSpace = true;
        }
      } else {
        norm[len++] = c;
        prevSpace = false;
      }
    }
  };
  if (n <= budget) {
    push(0, n);
  } else {
    push(0, cfg.headChars);
    if (!prevSpace) {
      norm[len++] = SPACE;
      prevSpace = true;
    }
    push(n - cfg.tailChars, n);
  }
  if (len > 0 && norm[len - 1] === SPACE) len--;
  return len;
}

/**
 * Computes the dense shape features over the same head and tail window as the n-grams (the length feature
 * uses the full length). One pass, no allocation.
 */
function denseFeatures(text: string, cfg: FeatureConfig, out: Float64Array): void {
  const n = text.length;
  const headEnd = Math.min(n, cfg.headChars);
  const tailStart = Math.max(headEnd, n - cfg.tailChars);
  let digits = 0;
  let symbols = 0;
  let questions = 0;
  let lines = 1;
  let code = 0;
  let letters = 0;
  let words = 0;
  let numbers = 0;
  let options = 0;
  let numericOptions = 0;
  let inWord = false;
  let inNumber = false;
  // Multiple-choice options: a line starting "A." / "B)" … "H."; an option is numeric when ≥ 30% digits.
  let lineStart = true;
  let inOption = false;
  let optLen = 0;
  let optDigits = 0;
  const endOption = () => {
    if (inOption && optLen > 0 && optDigits / optLen >= 0.3) numericOptions++;
    inOption = false;
  };
  for (let i = 0; i < n; i++) {
    if (i === headEnd && i < tailStart) i = tailStart;
    const c = text.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    const isLetter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
    if (isDigit) digits++;
    if (isLetter) letters++;
    // + - * / ^ = < > %
    if (c === 43 || c === 45 || c === 42 || c === 47 || c === 94 || c === 61 || c === 60 || c === 62 || c === 37) {
      symbols++;
    }
    if (c === 63) questions++;
    // { } ; ` _ are rare in prose and common in code.
    if (c === 123 || c === 125 || c === 59 || c === 96 || c === 95) code++;
    if (isLetter && !inWord) words++;
    inWord = isLetter;
    if (isDigit && !inNumber) numbers++;
    inNumber = isDigit || (inNumber && c === 46);
    if (c === 10) {
      lines++;
      endOption();
      lineStart = true;
      continue;
    }
    if (lineStart) {
      if (c === 32 || c === 9) continue;
      lineStart = false;
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c >= 65 && c <= 72 && (next === 46 || next === 41)) {
        options++;
        inOption = true;
        optLen = 0;
        optDigits = 0;
        i++; // the "." or ")"
        continue;
      }
    }
    if (inOption && c !== 32) {
      optLen++;
      if (isDigit) optDigits++;
    }
  }
  endOption();
  const len = Math.max(1, headEnd + (n - tailStart));
  out[0] = Math.log1p(n) / 8;
  out[1] = Math.min(1, (digits / len) * 5);
  out[2] = Math.min(1, (symbols / len) * 10);
  out[3] = options >= 3 ? 1 : 0;
  out[4] = options >= 3 ? numericOptions / options : 0;
  out[5] = Math.min(questions, 3) / 3;
  out[6] = Math.min(1, (code / len) * 20);
  out[7] = Math.log1p(lines) / 4;
  out[8] = words > 0 ? Math.min(1, letters / words / 10) : 0;
  out[9] = Math.log1p(numbers) / 4;
}

const dense = new Float64Array(DENSE_FEATURES.length);

/**
 * Calls `visit(index, value)` for every feature of `text` (hashed indices may repeat). The core of both
 * `extractFeatures` and `dotFeatures`.
 */
export function visitFeatures(text: string, cfg: FeatureConfig, visit: (index: number, value: number) => void): void {
  const mask = (1 << cfg.hashBits) - 1;
  const len = normalise(text, cfg);

  // Words: FNV-1a per word, collected first so the family can be scaled by its size.
  let nWords = 0;
  let h = FNV_OFFSET ^ SEED_WORD;
  let inWord = false;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? norm[i]! : SPACE;
    if (c === SPACE) {
      if (inWord) wordHashes[nWords++] = h;
      h = FNV_OFFSET ^ SEED_WORD;
      inWord = false;
    } else {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
    }
  }
  if (nWords > 0) {
    const v = 1 / Math.sqrt(nWords);
    for (let i = 0; i < nWords; i++) visit(wordHashes[i]! & mask, v);
  }
  if (nWords > 1) {
    const v = 1 / Math.sqrt(nWords - 1);
    for (let i = 1; i < nWords; i++) {
      const b = Math.imul(Math.imul(wordHashes[i - 1]! ^ SEED_BIGRAM, FNV_PRIME) ^ wordHashes[i]!, FNV_PRIME);
      visit((b ^ (b >>> 15)) & mask, v);
    }
  }

  // Character n-grams over the normalised text.
  const k = cfg.charNgram;
  const nGrams = len - k + 1;
  if (nGrams > 0) {
    for (let i = 0; i < nGrams; i++) {
      let g = FNV_OFFSET ^ SEED_CHAR;
      for (let j = 0; j < k; j++) g = Math.imul(g ^ norm[i + j]!, FNV_PRIME);
      gramHashes[i] = g ^ (g >>> 13);
    }
    const v = 1 / Math.sqrt(nGrams);
    for (let i = 0; i < nGrams; i++) visit(gramHashes[i]! & mask, v);
  }

  denseFeatures(text, cfg, dense);
  const base = mask + 1;
  for (let j = 0; j < dense.length; j++) if (dense[j] !== 0) visit(base + j, dense[j]!);
}

/** The sparse feature vector of `text` (for training and explanations). */
export function extractFeatures(text: string, cfg: FeatureConfig = DEFAULT_FEATURE_CONFIG): SparseFeatures {
  const idx: number[] = [];
  const val: number[] = [];
  visitFeatures(text, cfg, (i, v) => {
    idx.push(i);
    val.push(v);
  });
  return { indices: Int32Array.from(idx), values: Float32Array.from(val) };
}

/** Σ weights[i] × value over the features of `text`, without materialising them (the serving path). */
export function dotFeatures(text: string, cfg: FeatureConfig, weights: Float32Array): number {
  let sum = 0;
  visitFeatures(text, cfg, (i, v) => {
    sum += weights[i]! * v;
  });
  return sum;
}
