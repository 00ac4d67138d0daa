package io.flexq.jlama;

import com.github.tjake.jlama.model.DistributedContext;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.TensorInfo;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.tensor.AbstractTensor;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Jlama's {@link WeightLoader} with the seven linear weights of every block served as {@link Fq6Tensor}s;
 * everything else (embeddings, norms, the LM head) comes from Jlama's own loader unchanged. The model type
 * it reports is the delegate's (F32 for F32/F16 checkpoints), so Jlama hands F32 activations to the linears.
 *
 * <p>Refused: a model shard ({@code DistributedContext.hasModelShard()}, Jlama's tensor-parallel mode),
 * where Jlama would ask for slices of each matrix.
 */
public final class FlexqWeightLoader implements WeightLoader {

    private final WeightLoader delegate;
    private final Fq6Weights source;
    private final Map<String, Fq6Tensor> loaded = new ConcurrentHashMap<>();

    FlexqWeightLoader(WeightLoader delegate, Fq6Weights source) {
        this.delegate = delegate;
        this.source = source;
    }

    public WeightLoader delegate() {
        return delegate;
    }

    /** The FQ6 tensors handed out so far, by HF name. */
    public Map<String, Fq6Tensor> fq6Tensors() {
        return Map.copyOf(loaded);
    }

    public String describe() {
        return source.describe();
    }

    @Override
    public Map<String, String> metadata() {
        return delegate.metadata();
    }

    @Override
    public Map<String, TensorInfo> tensorInfoMap() {
        return delegate.tensorInfoMap();
    }

    @Override
    public AbstractTensor load(String name, DistributedContext dctx, boolean sparseRows, boolean sparseColumns) {
        Optional<String> gguf = LinearNames.gguf(name);
        if (gguf.isEmpty()) {
            return delegate.load(name, dctx, sparseRows, sparseColumns);
        }
        if (dctx != null && dctx.hasModelShard()) {
            throw new UnsupportedOperationException("flexq-jlama: " + name + " requested for model shard " + dctx
                    + "; sharded / distributed Jlama is not supported with FQ6 weights");
        }
        TensorInfo info = delegate.tensorInfoMap().get(name);
        if (info == null) {
            return delegate.load(name, dctx, sparseRows, sparseColumns); // Jlama's own "not found" message
        }
        return loaded.computeIfAbsent(name, n -> new Fq6Tensor(n, source.matrix(n, gguf.get(), info.shape, () -> delegate.load(n))));
    }

    @Override
    public DType getModelDType() {
        return delegate.getModelDType();
    }

    @Override
    public void close() {
        for (Fq6Tensor t : loaded.values()) {
            t.matrix().close();
        }
        source.close();
        try {
            delegate.close();
        } catch (Exception e) {
            throw new IllegalStateException("flexq-jlama: closing Jlama's loader: " + e, e);
        }
    }
}
