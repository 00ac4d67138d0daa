package io.flexq.jlama.agent;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two bytecode rewrites the agent makes in Jlama 0.8.4, with the JDK's {@code java.lang.classfile} API;
 * everything else in the classes is copied unchanged.
 * <pre>
 *   SafeTensorSupport.loadWeights(File): WeightLoader             areturn  ->  aload_0; invokestatic Hooks.loader(WeightLoader, File); areturn
 *   TensorOperationsProvider.pickFastestImplementation(): TensorOperations
 *                                                                 areturn  ->  invokestatic Hooks.operations(TensorOperations); areturn
 * </pre>
 * So every model Jlama loads gets FQ6 linears, and the operations Jlama picks are wrapped, without reflection
 * on Jlama's final fields. A rewrite that does not find its method (another Jlama build) throws, and the
 * agent then leaves the class as it was.
 */
final class JlamaRewriter {

    static final String SAFE_TENSOR_SUPPORT = "com/github/tjake/jlama/safetensors/SafeTensorSupport";
    static final String OPERATIONS_PROVIDER = "com/github/tjake/jlama/tensor/operations/TensorOperationsProvider";

    private static final ClassDesc FILE = ClassDesc.of("java.io.File");
    private static final ClassDesc WEIGHT_LOADER = ClassDesc.of("com.github.tjake.jlama.safetensors.WeightLoader");
    private static final ClassDesc OPERATIONS = ClassDesc.of("com.github.tjake.jlama.tensor.operations.TensorOperations");
    private static final ClassDesc HOOKS = ClassDesc.of(Hooks.class.getName());

    private JlamaRewriter() {
    }

    /** The rewritten class, or throws naming what was not found. */
    static byte[] rewrite(String internalName, byte[] classBytes, ClassLoader loader) {
        return switch (internalName) {
            case SAFE_TENSOR_SUPPORT -> rewrite(classBytes, loader, "loadWeights", MethodTypeDesc.of(WEIGHT_LOADER, FILE),
                    code -> {
                        code.aload(0);
                        code.invokestatic(HOOKS, "loader", MethodTypeDesc.of(WEIGHT_LOADER, WEIGHT_LOADER, FILE));
                    });
            case OPERATIONS_PROVIDER -> rewrite(classBytes, loader, "pickFastestImplementation", MethodTypeDesc.of(OPERATIONS),
                    code -> code.invokestatic(HOOKS, "operations", MethodTypeDesc.of(OPERATIONS, OPERATIONS)));
            default -> throw new IllegalArgumentException("not a class the agent rewrites: " + internalName);
        };
    }

    private static byte[] rewrite(byte[] bytes, ClassLoader loader, String method, MethodTypeDesc type,
                                  java.util.function.Consumer<java.lang.classfile.CodeBuilder> beforeReturn) {
        ClassFile cf = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofResourceParsing(loader))));
        ClassModel model = cf.parse(bytes);
        AtomicInteger methods = new AtomicInteger();
        AtomicInteger returns = new AtomicInteger();
        CodeTransform hook = (code, element) -> {
            if (element instanceof ReturnInstruction r && r.opcode() == Opcode.ARETURN) {
                beforeReturn.accept(code);
                returns.incrementAndGet();
            }
            code.with((CodeElement) element);
        };
        byte[] out = cf.transformClass(model, ClassTransform.transformingMethodBodies(
                (MethodModel m) -> {
                    boolean match = m.methodName().equalsString(method) && m.methodTypeSymbol().equals(type);
                    if (match) {
                        methods.incrementAndGet();
                    }
                    return match;
                }, hook));
        if (methods.get() != 1 || returns.get() == 0) {
            throw new IllegalStateException(model.thisClass().asInternalName() + "." + method + type.descriptorString()
                    + ": found " + methods.get() + " method(s) with " + returns.get() + " areturn(s), expected one method that returns");
        }
        return out;
    }
}
