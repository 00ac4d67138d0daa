// Reads a GGUF file's header, metadata and tensor table with @huggingface/gguf (a parser nobody in this
// project wrote) and prints them as one JSON object; 64-bit integers are printed as decimal strings.
import { gguf } from "@huggingface/gguf";

const file = process.argv[2];
try {
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const out = { metadata, tensorInfos, tensorDataOffset };
  process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === "bigint" ? v.toString() : v)));
} catch (e) {
  process.stderr.write("read-gguf: " + (e && e.message ? e.message : String(e)) + "\n");
  process.exit(3);
}
