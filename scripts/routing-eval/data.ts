/**
 * Loading the routing data set (`requests.jsonl` or any file of the same shape) and the fixed train /
 * held-out split shared by `train-router` and `eval-routing`.
 *
 * The split is a stable hash of the row id (FNV-1a, 32 bit): `hash % 100 < TRAIN_PERCENT` trains, the rest is
 * held out. It depends on nothing but the id, so adding rows never moves an existing row between the parts.
 * Cross-validation folds inside the training part use the hash of `fold:<id>` (independent of the split).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One labelled request (see the data set's README). */
export interface RoutingRow {
  readonly id: string;
  readonly source: string;
  /** Never a router feature: the router sees only the request text. */
  readonly category?: string;
  readonly prompt: string;
  /** Quality of the weak model's (fast tier's) answer, 0..1. */
  readonly weak_quality: number;
  /** Quality of the strong model's (deep tier's) answer, 0..1. */
  readonly strong_quality: number;
  /** The weak model's answer text, where the data set has it (GSM8K). */
  readonly weak_response?: string;
}

/** The data set, vendored in the repository (a copy of shared/datasets/routing-eval, Apache-2.0; see its README). */
export const DEFAULT_DATA_FILE = path.resolve(__dirname, '../../data/routing-eval/requests.jsonl');

/** Share of rows (by id hash) that trains the router. */
const TRAIN_PERCENT = 70;

/** The split rule in words, stored with the model. */
export const SPLIT_RULE = `fnv1a32(id) % 100 < ${TRAIN_PERCENT} → train, else held-out`;

/** 32-bit FNV-1a of a string's UTF-16 units. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Which part of the split a row belongs to. */
export function splitOf(id: string): 'train' | 'held-out' {
  return fnv1a32(id) % 100 < TRAIN_PERCENT ? 'train' : 'held-out';
}

/** Cross-validation fold (0..k-1) of a training row. */
export function foldOf(id: string, k: number): number {
  return fnv1a32(`fold:${id}`) % k;
}

/** A loaded data file: its rows and the sha256 of its bytes. */
export interface Dataset {
  readonly file: string;
  readonly sha256: string;
  readonly rows: RoutingRow[];
}

/** Reads a JSONL file of routing rows; throws naming the line of the first malformed row. */
export function loadDataset(file: string): Dataset {
  const bytes = fs.readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const rows: RoutingRow[] = [];
  const lines = bytes.toString('utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let r: Partial<RoutingRow>;
    try {
      r = JSON.parse(line) as Partial<RoutingRow>;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (
      typeof r.id !== 'string' ||
      typeof r.prompt !== 'string' ||
      typeof r.weak_quality !== 'number' ||
      typeof r.strong_quality !== 'number'
    ) {
      throw new Error(`${file}:${i + 1}: needs string id and prompt, numeric weak_quality and strong_quality`);
    }
    rows.push({
      id: r.id,
      source: typeof r.source === 'string' ? r.source : 'unknown',
      ...(typeof r.category === 'string' ? { category: r.category } : {}),
      prompt: r.prompt,
      weak_quality: r.weak_quality,
      strong_quality: r.strong_quality,
      ...(typeof r.weak_response === 'string' ? { weak_response: r.weak_response } : {}),
    });
  });
  return { file, sha256, rows };
}

/** A small seeded PRNG (mulberry32) so every run of training and evaluation is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Area under the ROC curve of `scores` for binary `labels` (ties count one half). */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let neg = 0;
  let rankSum = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[idx[t]!]) {
        pos++;
        rankSum += midRank;
      } else neg++;
    }
    i = j + 1;
  }
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
