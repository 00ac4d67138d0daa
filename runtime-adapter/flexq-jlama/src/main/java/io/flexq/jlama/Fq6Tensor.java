package io.flexq.jlama;

import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.TensorShape;
import io.flexq.runtime.spi.WeightMatrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * An FQ6 linear weight inside Jlama: a Jlama tensor of shape [rows, cols] whose storage is a FlexQ
 * {@link WeightMatrix} (CPU or CUDA, whichever backend loaded it). Jlama's closed {@link DType} enum has no
 * 6-bit type; the tag is {@link DType#Q5}, which none of Jlama 0.8.4's operations handle, so a product that
 * bypassed {@link FlexqOperations} would fail loudly instead of computing garbage.
 *
 * <p>Jlama only ever passes this tensor around and hands it to {@code TensorOperations}; every element
 * accessor refuses with a message naming the tensor. {@link #quantize(DType)} returns this tensor, so a
 * user's {@code --quantize-to Q4} cannot silently replace FQ6 weights by Jlama's own Q4 of them.
 */
public final class Fq6Tensor extends AbstractTensor<FloatVector, Float> {

    /** Jlama's tag for FQ6 tensors (see the class comment). */
    public static final DType TAG = DType.Q5;

    private final String name;
    private final WeightMatrix matrix;

    public Fq6Tensor(String name, WeightMatrix matrix) {
        super(TAG, TensorShape.of(matrix.rows(), matrix.cols()), false);
        this.name = name;
        this.matrix = matrix;
    }

    /** The HF name Jlama asked for, e.g. "model.layers.3.mlp.down_proj.weight". */
    public String name() {
        return name;
    }

    public WeightMatrix matrix() {
        return matrix;
    }

    @Override
    public AbstractTensor quantize(DType dType) {
        return this;
    }

    @Override
    public AbstractTensor quantize(DType dType, boolean force) {
        return this;
    }

    @Override
    protected AbstractTensor make(TensorShape shape) {
        throw refused("make a tensor like it");
    }

    @Override
    protected AbstractTensor make(int heapOffset, int heapLength, TensorShape shape, boolean cacheSlices) {
        throw refused("slice it");
    }

    @Override
    public float get(int... dims) {
        throw refused("read an element");
    }

    @Override
    public void set(float v, int... dims) {
        throw refused("write an element");
    }

    @Override
    public FloatVector getVector(VectorSpecies<Float> species, int... offset) {
        throw refused("read a vector");
    }

    @Override
    public void intoTensor(FloatVector vector, int... offset) {
        throw refused("write a vector");
    }

    @Override
    public MemorySegment getMemorySegment() {
        throw refused("read its memory");
    }

    @Override
    public int getMemorySegmentOffset(int offset) {
        throw refused("read its memory");
    }

    @Override
    public void copyFrom(AbstractTensor src, int srcOffset, int destOffset, int length) {
        throw refused("copy into it");
    }

    @Override
    public void clear() {
        throw refused("clear it");
    }

    @Override
    public String toString() {
        return "Fq6Tensor{" + name + " " + matrix.rows() + "x" + matrix.cols() + ", " + matrix.describe() + "}";
    }

    private UnsupportedOperationException refused(String what) {
        return new UnsupportedOperationException("flexq-jlama: " + name + " is an FQ6 tensor served by FlexQ ("
                + matrix.describe() + "); Jlama tried to " + what + ", which FQ6 tensors do not support");
    }
}
