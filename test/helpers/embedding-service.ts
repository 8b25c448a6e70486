/** A small embedding service speaking the OpenAI, Ollama or TEI wire format, shared with the benchmarks. */
export { bundledModel, bundledVectors, FakeEmbeddingService, startEmbeddingService, type Fault, type Provider, type SeenRequest } from '../../scripts/lib/embedding-service.js';
