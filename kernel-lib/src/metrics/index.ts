/**
 * ftgen's metrics: classification scores, ROUGE (rouge_score-compatible), corpus BLEU
 * (sacreBLEU-compatible) and seeded bootstrap confidence intervals.
 */
export {
  accuracy,
  macroF1,
  confusionMatrix,
  splitScorable,
  type Coverage,
  type AccuracyResult,
  type LabelScores,
  type MacroF1Result,
  type ConfusionMatrix,
  type ScorableSplit,
} from "./classification";
export {
  rougeTokenize,
  rougeN,
  rougeL,
  rouge,
  corpusRouge,
  lcsLength,
  ROUGE_TYPES,
  type RougeScore,
  type RougeScores,
  type RougeType,
  type CorpusRouge,
} from "./rouge";
export { corpusBleu, bleuFromStats, tokenize13a, BLEU_MAX_ORDER, type BleuResult } from "./bleu";
export {
  bootstrapCI,
  meanCI,
  percentileSorted,
  pick,
  type BootstrapOptions,
  type BootstrapResult,
} from "./bootstrap";
