package io.flexq.conformance;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every backend found through ServiceLoader, for every registered tensor type it supports, in every variant
 * of the type (FQ6: W6A6, W6A8, W6A16): random weights at the shapes of {@link Shape#forType}, compared with a
 * float64 product of the type's decoded weights (see {@link MatmulConformance}, {@link ErrorModel}).
 *
 * <p>One dynamic test per (backend, type, variant). A backend that reports itself unavailable, a type it does
 * not support, or a type the kit cannot encode appears as a skipped test with the reason, never as a pass.
 */
class MatmulConformanceTest {

    @TestFactory
    Stream<DynamicTest> everyBackendEveryTypeItSupports() {
        ClassLoader loader = getClass().getClassLoader();
        BackendRoster roster = BackendRoster.discover(loader);
        TensorTypes types = BuiltinTypes.registry(loader);
        MatmulConformance kit = MatmulConformance.standard();
        System.out.println("[conformance] matmul kit, base seed " + kit.baseSeed() + " (-Dflexq.conformance.seed=N to change)");
        System.out.print("[conformance] " + roster.describe());
        System.out.println("[conformance] registered types: " + types.all().stream().map(t -> t.name() + "(" + t.id() + ")").toList());

        List<DynamicTest> tests = new ArrayList<>();
        for (BackendRoster.Entry e : roster.entries()) {
            if (!e.available()) {
                System.out.println("[conformance] SKIPPED backend " + e.name() + ": " + e.reason());
                tests.add(DynamicTest.dynamicTest(e.name() + ": unavailable",
                        () -> Assumptions.abort("backend " + e.name() + " unavailable: " + e.reason())));
                continue;
            }
            for (TensorType type : types.all()) {
                boolean any;
                try {
                    any = Shape.forType(type).stream().anyMatch(s -> e.backend().supports(type, s.rows(), s.cols()));
                } catch (RuntimeException | LinkageError x) {
                    tests.add(DynamicTest.dynamicTest(e.name() + " / " + type.name() + ": supports()", () -> {
                        throw new AssertionError(e.name() + ".supports(" + type.name() + ", ...) threw " + x, x);
                    }));
                    continue;
                }
                if (!any) {
                    System.out.println("[conformance] " + e.name() + " / " + type.name() + ": not supported by the backend");
                    continue;
                }
                for (Variant v : Variant.forType(type)) {
                    String name = e.name() + " / " + type.name() + " / " + v.label();
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        Assumptions.assumeTrue(kit.canEncode(type), () -> name + ": the kit has no encoder for type "
                                + type.name() + " (id " + type.id() + ")");
                        MatmulReport report = kit.run(e.backend(), type, v);
                        System.out.println("[conformance] " + report.summary());
                        assertTrue(report.failures().isEmpty(), report::failureReport);
                        assertTrue(report.checked() > 0, () -> name + ": no shape was checked");
                    }));
                }
            }
        }
        return tests.stream();
    }
}
