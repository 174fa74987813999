// Runs MicroPython code on the WebAssembly port (npm @micropython/micropython-webassembly-pyscript)
// under Node.js, with files copied into its in-memory file system at the same paths.
//   node tests/firmware/wasm_runner.mjs <port dir> <script.py> [copy-dir ...] -- <cwd>
// The port has no sys.argv: the script runs in <cwd> (os.chdir) instead. Prints the
// script's output, then "WASM-EXIT <code>" (SystemExit's code, 1 for an exception).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [portDir, script, ...rest] = process.argv.slice(2);
const split = rest.indexOf("--");
const copies = split < 0 ? rest : rest.slice(0, split);
const cwd = split < 0 ? "/" : rest[split + 1];
const { loadMicroPython } = await import(join(portDir, "micropython.mjs"));
const mp = await loadMicroPython({
  heapsize: 4 * 1024 * 1024,
  linebuffer: true,
  stdout: (line) => console.log(line),
  stderr: (line) => console.log(line),
});

function copyTree(dir) {
  mp.FS.mkdirTree(dir);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyTree(path);
    else mp.FS.writeFile(path, readFileSync(path));
  }
}
for (const dir of copies) copyTree(dir);
mp.FS.writeFile("/main_script.py", readFileSync(script));

const code = `
import os, sys
os.chdir(${JSON.stringify(cwd)})
_code = 0
try:
    exec(open("/main_script.py").read(), {"__name__": "__main__"})
except SystemExit as err:
    _code = err.args[0] if err.args else 0
except Exception as err:
    sys.print_exception(err)
    _code = 1
print("WASM-EXIT", _code)
`;
try {
  mp.runPython(code);
} catch (err) {
  // A Python error escaping the wrapper above (the port's own setup failed).
  console.log(String(err.message || err).slice(-2000));
  console.log("WASM-EXIT 1");
}
