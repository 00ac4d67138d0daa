package io.flexq.runtime.spi;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * What a backend is given to load one weight matrix: its name in GGUF terms (e.g. "blk.3.ffn_down.weight"),
 * storage type, shape, the raw bytes (usually a slice of a memory-mapped file), and the model's whole
 * metadata so a plugin can read its own keys (e.g. "flexq.*").
 */
public record WeightSource(String name, TensorType type, int rows, int cols, MemorySegment data,
                           Map<String, Object> modelMetadata) {
}
