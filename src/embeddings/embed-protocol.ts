/** How the embedding worker loads its model. */
export interface WorkerModelOptions {
  /**
   * `static`: the bundled static word-vector model, computed without an ONNX runtime;
   * `transformers`: any other model, through @huggingface/transformers.
   */
  engine: 'static' | 'transformers';
  /** A Hugging Face model id, or a directory name under `localModelPath`. */
  model: string;
  localModelPath: string | null;
  cacheDir: string | null;
  allowRemoteModels: boolean;
  /** Which ONNX weights to load, e.g. fp32 (onnx/model.onnx) or q8 (onnx/model_quantized.onnx). */
  dtype: string;
}

export type ToWorker = { type: 'embed'; id: number; texts: string[] };

export type FromWorker =
  | { type: 'ready'; dimension: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; dimension: number; values: Float32Array }
  | { type: 'error'; id: number; message: string };
