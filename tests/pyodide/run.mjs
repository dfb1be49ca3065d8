// Runs one request through xl_lstm inside Pyodide, as xlwings Lite would, and prints one JSON object.
//
//     node tests/pyodide/run.mjs CACHE < request.json
//
// CACHE is the folder .ci/pyodide.py filled (node_modules/pyodide, wheels/, installed.json).
// stdin: {"files": {"xl_lstm/udfs.py": "<source>", ...}, "module": "tests.pyodide.lite", "request": {...}}
// The files are written under /repo in Pyodide's in-memory file system (what `pip install`
// would put on sys.path); `module`'s `handle(request)` is awaited there.
// stdout: {"seconds": {load_pyodide, numpy, xlwings, import, request}, "memory_mb": {...},
//          "python": "3.12.7 ...", "response_json": <JSON text of what handle returned>}.
// Everything Pyodide prints goes to stderr, so stdout carries only the JSON.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const cache = resolve(process.argv[2] ?? ".pyodide");
const installed = JSON.parse(readFileSync(join(cache, "installed.json"), "utf8"));
const input = JSON.parse(readFileSync(0, "utf8"));
const seconds = {};
const toStderr = (line) => process.stderr.write(`${line}\n`);

async function timed(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  seconds[name] = (performance.now() - t0) / 1000;
  return out;
}

// loadPackage only logs a failure (missing file, wrong sha256) unless errorCallback throws:
// collect every error and throw after the call as well, so nothing is swallowed.
async function loadPackage(pyodide, what) {
  const errors = [];
  await pyodide.loadPackage(what, {
    messageCallback: toStderr,
    errorCallback: (message) => {
      errors.push(message);
      throw new Error(`loadPackage(${what}): ${message}`);
    },
  });
  if (errors.length) throw new Error(`loadPackage(${what}): ${errors.join("; ")}`);
}

const { loadPyodide } = await import(pathToFileURL(join(cache, "node_modules", "pyodide", "pyodide.mjs")).href);
const pyodide = await timed("load_pyodide", () =>
  loadPyodide({ packageCacheDir: join(cache, "wheels"), stdout: toStderr, stderr: toStderr }),
);
if (pyodide.version !== installed.pyodide) {
  throw new Error(`loaded Pyodide ${pyodide.version}, installed.json says ${installed.pyodide}`);
}
// By name, from packageCacheDir. Under Node, Pyodide 0.27.7 reads a cached wheel without checking
// it (a changed file still loads), so its sha256 is checked here against pyodide-lock.json first.
const numpyLock = JSON.parse(readFileSync(join(cache, "node_modules", "pyodide", "pyodide-lock.json"), "utf8")).packages.numpy;
const numpySha = createHash("sha256").update(readFileSync(join(cache, "wheels", numpyLock.file_name))).digest("hex");
if (numpySha !== numpyLock.sha256) {
  throw new Error(`${numpyLock.file_name}: sha256 ${numpySha}, pyodide-lock.json says ${numpyLock.sha256}: refused`);
}
await timed("numpy", () => loadPackage(pyodide, "numpy"));
await timed("xlwings", () => loadPackage(pyodide, pathToFileURL(join(cache, "wheels", installed.xlwings_wheel)).href));

for (const [path, text] of Object.entries(input.files)) {
  const full = `/repo/${path}`;
  pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
  pyodide.FS.writeFile(full, text);
}
pyodide.globals.set("module_name", input.module);
pyodide.globals.set("request_json", JSON.stringify(input.request));
// xlwings Lite's runtime sets XLWINGS_ON_SERVER before xlwings is first imported: without it
// @xw.func is a no-op off Windows. The license key is xlwings' free noncommercial one.
await timed("import", () =>
  pyodide.runPythonAsync(`
import importlib, os, sys
os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
sys.path.insert(0, "/repo")
module = importlib.import_module(module_name)
`),
);
const response = await timed("request", () =>
  pyodide.runPythonAsync("import json\njson.dumps(await module.handle(json.loads(request_json)))"),
);
const python = pyodide.runPython("import sys; sys.version");
const memory = process.memoryUsage();
const out = {
  seconds,
  memory_mb: { rss: memory.rss / 2 ** 20, wasm_heap: pyodide._module.HEAP8.length / 2 ** 20 },
  python,
  // Python's JSON text as it is: a round trip through JavaScript numbers would turn 1.0 into 1.
  response_json: response,
};
process.stdout.write(JSON.stringify(out));
