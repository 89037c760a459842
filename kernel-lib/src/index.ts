/**
 * ftgen's kernel library: everything a notebook cell needs, in one import.
 *   import * as ftgen from "ftgen";
 * The pipeline: data → prompts → model → train → evaluate → study → plot.
 */
export const version = "0.1.0";

// data
export * from "./data/tasks";
export * from "./data/records";
export { loadDataset, loadFewShot, isAvailable, type Dataset, type Split, type LoadOptions } from "./data/load";
export { loadManifest, findEntry, PAPER_REPO, PAPER_COMMIT, type Manifest, type ManifestEntry, type FileRole } from "./data/manifest";
export { dataFile, type DataFile } from "./data/files";
export type { DatasetDeclaration, DatasetRole } from "./data/dataset-declaration";
export { DeclarationError } from "./util/declaration";
export { labelBalance } from "./data/validate";

// prompts
export * from "./prompts/maps";
export * from "./prompts/build";
export * from "./prompts/boundary";

// study
export * from "./study/profile";

// notebook output: tables, text, figures
export { displayBundle, showText, LiveDisplay, inKernel, type MimeBundle } from "./notebook/display";
export { toDataFrame, tableHtml, tableText, showTable, danfo, type TableOptions } from "./notebook/table";
export { showFigure, figureBundle, renderFigureBundle, type BundleOptions } from "./plot/show";
export type { Figure } from "./plot/figure";
export { exportFigure, closeRenderer, renderStatic, renderPng, renderSvg, figureSize, chromiumAvailable, pdfTitle, pdfInfoTitle, svgTextBoxes, textProblems, type TextBox, type TextProblems, type ExportOptions, type ExportedFigure, type StaticFigure } from "./plot/export";

// utilities
export { makeRng, shuffled, sampleIndices, type Rng } from "./util/random";
export { barChart, type BarChartOptions, type BarSeries } from "./plot/charts";
export { dataReport, formatDataReport, type DataReportRow } from "./data/report";

// evaluation metrics
export * from "./metrics/index";

// model: tokenizer
export { BpeTokenizer, trainTokenizer, trainTokenizerWithStats, BOS_ID, EOS_ID, PAD_ID, type TrainTokenizerOptions } from "./tokenizer/tokenizer";

// evaluation
export { evaluate, labelFirstTokens, cutGeneration, buildPrompts, promptIds, type EvalSpec, type EvalResult, type ItemResult } from "./evaluate/evaluate";
export type { CausalLM } from "./evaluate/lm";
export { capFields, keepLast } from "./prompts/fit";

// model: backend, config, decoder, inference, folders
export { initBackend, backendInfo, type BackendInfo } from "./model/backend";
export { llamaConfig, readConfig, writeConfig, LLAMA_DEFAULTS, type LlamaConfig } from "./model/config";
export { LlamaModel, parameterCount } from "./model/llama";
export { KVCache } from "./model/kernels/kv-cache";
export { scoreFirstToken, labelLogLikelihoods, generateGreedy, generateGreedyUncached, stopOnText } from "./model/inference";
export { saveModelFolder, loadModelFolder } from "./model/folder";
export { saveSafetensors, loadSafetensors } from "./model/safetensors";

// training
export { train, FINETUNE_DEFAULTS, DivergedError, type TrainConfig, type Progress, type TrainResult, type TrainableModel } from "./train/loop";
export { tokenizeTraining, collate, bucketBatches, type TokenizedExample, type Batch } from "./train/examples";
export type { Encoder } from "./tokenizer/encoder";
export { progressBar, formatSeconds, trainingStatus, type ProgressBar, type ProgressBarOptions } from "./notebook/progress";
export { TfjsCausalLM } from "./evaluate/tfjs-lm";
export { finetune, finetuneEngine, TFJS_FULL_FT_MAX_PARAMS, LLM_FINETUNE_RECIPES, type FinetuneSpec, type FinetuneResult, type Tuning } from "./train/recipes";
export { NativeTrainer, peftName } from "./train/native-trainer";
export { tfjsEngine, type StepEngine, type EngineSnapshot } from "./train/engine";
export { LORA_DEFAULTS, LORA_MODULES, checkLora, saveAdapter, readAdapter, mergeLora, mergeAdapterFolder, isAdapterFolder, type LoraConfig, type LoraModule, type LoadedAdapter } from "./model/lora";

// pretraining corpus
export { SOURCES, sourcesTable, debianPackages, type SourceSpec, type SourceId } from "./pretrain/sources/sources";
export { buildCorpus, readCorpusJsonl, paperCheckFiles, DEFAULT_CORPUS_CONFIG, CORPUS_FORMAT_VERSION, type CorpusConfig, type BuildOptions, type BuildResult } from "./pretrain/corpus/corpus";
export { checkContamination, assertClean, formatContamination, type ContaminationReport, type FileOverlap } from "./pretrain/corpus/contamination";
export { ngramWords, ngramHashes } from "./pretrain/corpus/ngrams";
export { corpusStats, formatStats, type CorpusStats, type StatRow } from "./pretrain/corpus/stats";
export { randomFormat, renderDocument, MT_KINDS, type MtKind, type DemoFormat } from "./pretrain/corpus/formats";
export { DOC_KINDS, type CorpusDoc, type DocKind } from "./pretrain/corpus/types";
// pretraining recipe
export { packDocuments, documentStream, cutStream, packedExamples, type PackOptions } from "./pretrain/corpus/packing";
export { heldoutLoss, type HeldoutReport, type HeldoutScore, type HeldoutOptions } from "./pretrain/run/heldout";
export { readPretrainConfig, parsePretrainConfig, type PretrainConfig } from "./pretrain/run/recipe-config";
export { runPretrain, readCurve, type PretrainOptions, type PretrainOutcome, type CurvePoint } from "./pretrain/run/recipe";
export { modelCardMarkdown, type ModelCard, type Invocation } from "./pretrain/run/model-card";

// results: content-hash keyed, atomic evaluation records
export { ResultStore, evaluateCached, cachedOnly, folderHash, EVAL_CODE_VERSION, type StoredResult, type ModelRecord } from "./study/store";
// the native addon (OpenBLAS under tfjs-wasm)
export { useNativeBlas, nativeBlasInfo, type NativeBlasInfo } from "./model/kernels/native-blas";
export { iclGrid, iclChecks, iclBar, ICL_BAR, majorityBaseline, majorityCheck, scopeDatasets, type IclBar, type IclCheckRow, type IclGridOptions, type IclScope } from "./study/icl";
export { scoreVsKChart } from "./plot/score-vs-k";
export { predictedLabelShare, firstWords, firstWordsBaseline, FIRST_WORDS_CANDIDATES, COLLAPSE_SHARE, type FirstWordsBaseline } from "./study/baselines";
export { llmIclGrid, llmStore, LLM_GRID, gridRows, type GridRow } from "./study/llm-grid";
export { taskChart } from "./plot/score-vs-k";
export { projectRoot, baseModelDir } from "./util/paths";
export { setting, settingsReport, SETTINGS, type SettingName } from "./util/settings";
export { planStudy, testSetsFor, methodName, trainSizesFor, type StudySpec, type StudyPlan, type ModelJob, type EvalJob, type Method, type Scope } from "./study/plan";
export { runStudy, recordRows, modelFolder, modelRecipe, modelKeyOf, trainRecordsFor, TRAIN_CODE_VERSION, type RunOptions, type RunEvent, type StudyRecord } from "./study/runner";
export { poolSeeds, type PooledRecord } from "./study/seeds";
export { recomputeStudy, type RecomputeReport, type RecomputedRecord, type RecomputedModel } from "./study/recompute";
export { deltasVsBase, pivot, pivotRows, mapDeltaPivot, iclGains, seedRecords, differenceCI, type DeltaRow, type Pivot, type IclGain } from "./study/results";
export { notebookStudy, runOptions, fticlMethods, availableTrainSizes, STUDIES, studyDeclaration, prepareStudyDeclarations, type NotebookStudy } from "./study/studies";
export type { StudyDeclaration, StudyMethodToken } from "./study/study-declaration";
export { runNotebookStudy, notebookPlan, verdicts, showVerdicts, type NotebookRunOptions } from "./study/notebook-run";
export { subjects, runSubjects, storedRecords, showVerdictComparison, verdictComparisonRows, type Subject, type SubjectRun } from "./study/subjects";
export { profilePlan, unionPlan, shardPlan, parseShard, notebookStudies } from "./study/shards";
export { mergeResults, type MergeReport } from "./study/merge";
export { addDeclarations } from "./study/declarations";
export { CONTRASTS, type ClaimSpec, type CellFilter, type ContrastName, type ClaimRule } from "./study/claim-declaration";
export { CLAIMS, CLAIM_IDS, claimSpec, addClaimDeclarations, MIN_EFFECT, claimCells, claimVerdicts, judge, judgePerCell, verdictOf, verdictRows, partRows, cellCollapsed, type ClaimId, type ClaimResult, type ClaimPart, type CellTest, type Verdict } from "./study/claims";
export { familyOf, jobKey } from "./study/record-keys";
export { contrastEffect, holm, metricName, type Cell, type Term, type Effect, type ItemsOf, type ItemLike, type ContrastMetric } from "./study/contrast";
export { scoreBars, scoreVsKPanels, trainSizeChart, deltaHeatmap, iclGainChart, scoreAxisTitle, metricTitle, DIVERGING, type ScoreBarsOptions, type DeltaHeatmapOptions } from "./plot/study-charts";
export { panelFigure, legendRows, type Panel, type PanelFigureOptions } from "./plot/panels";
export { PRINT, MIN_FONT_PX, PT_PER_PX, PALETTE, FONT_FAMILY, textWidth, wrapText, fittedRange, type PrintWidth } from "./plot/style";
export { TransformersCausalLM } from "./evaluate/transformers-lm";
export { exportOnnx, buildOnnxModel, ONNX_FILE, ONNX_OPSET } from "./model/onnx-export";
export { loadCausalLM, resolveEngine, resolveModelFolder, ensureOnnx, onnxRuntimeAvailable, type EngineChoice } from "./evaluate/engines";
export { NativeCausalLM } from "./evaluate/native-causal-lm";
export type { GenerateCallOptions } from "./evaluate/lm";
// pretrained LLMs: the registry (data/models), GGUF files, Hugging Face tokenizers
export { registryEntries, registryEntry, registryModelDir, registryModelKey, type RegistryEntry } from "./model/registry";
export { importGguf, checkImportedFolder, ggufLlamaConfig, type ImportedCard } from "./model/gguf-import";
export { readGguf, readGgufTensor, type GgufFile, type GgufTensorInfo } from "./model/gguf";
export { loadTokenizer } from "./tokenizer/hf-tokenizer";
export { NativeLlm, NativeSession } from "./model/native-lm";
