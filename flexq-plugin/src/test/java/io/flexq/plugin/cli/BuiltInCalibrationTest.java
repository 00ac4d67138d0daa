package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without --calib, calibration runs on the text inside the jar, never on a data folder beside a checkout. */
class BuiltInCalibrationTest {

    @TempDir
    Path dir;

    /** The novel THIRD-PARTY-NOTICES describes: its size and SHA-256 as committed (a changed text needs a changed notice). */
    @Test
    void theNovelIsTheNoticedPublicDomainText() throws Exception {
        byte[] bytes;
        try (var in = CalibrationText.class.getResourceAsStream(CalibrationText.NOVEL_RESOURCE)) {
            bytes = in.readAllBytes();
        }
        assertEquals(294_573, bytes.length);
        assertEquals("28b10a94e782f19d394647aea3e6e7fe502cd06966db39c0981a6d5d0905329c",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    }

    /** The built-in text: the articles, one line end, then the novel's opening, whole lines, no longer than the articles. */
    @Test
    void theBuiltInTextIsTheArticlesThenTheNovelsOpeningOfTheSameSize() throws Exception {
        byte[] articles;
        try (var in = CalibrationText.class.getResourceAsStream(CalibrationText.ARTICLES_RESOURCE)) {
            articles = in.readAllBytes();
        }
        String a = new String(articles, StandardCharsets.UTF_8);
        assertTrue(a.startsWith("= River Severn =\n"), a.substring(0, 40));
        CalibrationText t = CalibrationText.builtIn();
        assertEquals("flexq-plugin:encyclopedic-articles.txt+dorian-gray-1890.txt", t.name());
        assertTrue(t.content().startsWith(a + "\nTHE PICTURE OF DORIAN GRAY\nby\nOscar Wilde\n"));
        int novelBytes = t.content().getBytes(StandardCharsets.UTF_8).length - articles.length - 1;
        assertTrue(novelBytes <= articles.length && novelBytes > articles.length - 2_000, novelBytes + " vs " + articles.length);
        assertTrue(t.content().endsWith("\n"));
    }

    @Test
    void theOpeningEndsAtTheLastLineEndWithinTheLimitAndKeepsWholeCharacters() {
        byte[] text = "ab\nc\u00e9\nde\n".getBytes(StandardCharsets.UTF_8);  // a b \n c 0xC3 0xA9 \n d e \n
        assertEquals("ab\n", new String(CalibrationText.opening(text, 5), StandardCharsets.UTF_8));
        assertEquals("ab\nc\u00e9\n", new String(CalibrationText.opening(text, 7), StandardCharsets.UTF_8));
        assertEquals("ab\nc\u00e9\n", new String(CalibrationText.opening(text, 9), StandardCharsets.UTF_8));
        assertEquals(0, CalibrationText.opening(text, 2).length);
        assertEquals(text.length, CalibrationText.opening(text, 100).length);
    }

    /** Default GPTQ settings take 64 windows of 512 tokens: the text must hold that many with a Llama 2 (32k) vocabulary. */
    @Test
    void theBuiltInTextFillsTheDefaultGptqWindowsWithALlama2Vocabulary() {
        Tokenizer llama2;
        try (GgufFile f = GgufFile.open(SharedData.require("data/tokenizer-tests/ggml-vocab-llama-spm.gguf"),
                new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16)))) {
            llama2 = Tokenizers.fromMetadata(f.metadata());
        }
        int tokens = llama2.encodeWithBos(CalibrationText.builtIn().content(), false).length;
        int needed = QuantizePipeline.GptqSettings.DEFAULT_WINDOWS * QuantizePipeline.GptqSettings.DEFAULT_CTX;
        assertTrue(tokens >= needed, tokens + " tokens < " + needed);
    }

    @Test
    void autoWithoutCalibRecordsTheBuiltInTextInTheFile() throws Exception {
        Path model = CliRun.root().resolve("models/stories260K.bin");
        Path out = dir.resolve("auto.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), out.toString(), "--preset", "auto", "--calib-windows", "2", "--calib-ctx", "48",
                "--gptq-windows", "2", "--gptq-ctx", "64");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(getClass().getClassLoader()))) {
            var md = f.gguf().metadata();
            assertEquals(CalibrationText.BUILT_IN_NAME, md.getString(Fq6Keys.CALIBRATION_FILE));
            assertEquals(96L, md.getLong(Fq6Keys.CALIBRATION_TOKENS));
        }
        assertTrue(r.out().contains("calibration tokens of " + CalibrationText.BUILT_IN_NAME), r.out());
    }

    @Test
    void aMissingCalibFileIsOneErrorNamingIt() {
        Path missing = dir.resolve("no-such.txt");
        CliRun r = CliRun.of("quantize", CliRun.root().resolve("models/stories260K.bin").toString(), dir.resolve("x.gguf").toString(),
                "--preset", "auto", "--calib", missing.toString());
        assertTrue(r.status() != 0);
        assertTrue(r.err().contains(missing.toString()), r.err());
        assertTrue(Files.notExists(dir.resolve("x.gguf")));
    }
}
