package io.flexq.plugin.calib;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.WeightMatrix;

import java.util.List;

/**
 * A linear loaded in several forms (activation modes, encodings) that runs whichever {@link #current} picks; the
 * analyses switch it between forward passes. Closing it closes every form.
 */
abstract class ChosenMatrix implements WeightMatrix {

    private final String name;
    private final int rows;
    private final int cols;
    private final List<WeightMatrix> forms;

    ChosenMatrix(String name, int rows, int cols, List<WeightMatrix> forms) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.forms = List.copyOf(forms);
    }

    /** The form the next matmul runs. */
    abstract WeightMatrix current();

    @Override
    public String name() {
        return name;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void matmul(ActivationBatch in, ActivationBatch out) {
        current().matmul(in, out);
    }

    @Override
    public void close() {
        forms.forEach(WeightMatrix::close);
    }
}
