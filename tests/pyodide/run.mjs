// Installs the xl_lstm wheel in Pyodide with micropip, as xlwings Lite does, runs one request
// through it and prints one JSON object.
//
//     node tests/pyodide/run.mjs CACHE < request.json
//
// CACHE is the folder .ci/pyodide.py filled (node_modules/pyodide, wheels/, pypi/, installed.json).
// stdin: {"wheel": "/abs/path/xl_lstm-<ver>-py3-none-any.whl",
//         "files": {"tests/pyodide/lite.py": "<source>", ...}, "module": "tests.pyodide.lite", "request": {...}}
// Nothing here reaches the network. A local HTTP server on 127.0.0.1 stands in for the web:
// it serves the wheel at a URL, as a requirements.txt line in Lite names it, and serves pypi/
// as a package index (PEP 691 JSON, with the sha256 pinned in wheels.txt, which micropip
// checks). micropip.install(<wheel URL>, index_urls=<that index>) then resolves the wheel's
// dependencies itself: numpy and pandas are not in the index, so micropip takes Pyodide's own
// builds by pyodide-lock.json, which Pyodide loads from wheels/ (its packageCacheDir); xlwings,
// openpyxl and et_xmlfile come from the index, as Lite takes them from PyPI.
// Only the test harness (`files`) is written under /repo in Pyodide's file system; `module`'s
// `handle(request)` is awaited there, with xl_lstm imported from site-packages.
// stdout: {"seconds": {load_pyodide, micropip, install, import, request}, "memory_mb": {...},
//          "python": "3.12.7 ...", "installed": {...}, "response_json": <JSON text of handle's answer>}.
// Everything Pyodide prints goes to stderr, so stdout carries only the JSON.
import { createHash } from "node:crypto";
import { readFileSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const cache = resolve(process.argv[2] ?? ".pyodide");
const installed = JSON.parse(readFileSync(join(cache, "installed.json"), "utf8"));
const input = JSON.parse(readFileSync(0, "utf8"));
const seconds = {};
// Synchronous writes: an asynchronous one to a pipe can be lost when a failure ends the process.
const toStderr = (line) => writeSync(2, `${line}\n`);
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

async function timed(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  seconds[name] = (performance.now() - t0) / 1000;
  return out;
}

// Under Node, Pyodide 0.27.7 loads a cached wheel without checking it (a changed file still
// loads), so every wheel in wheels/ is checked here against pyodide-lock.json first.
const lock = JSON.parse(readFileSync(join(cache, "node_modules", "pyodide", "pyodide-lock.json"), "utf8")).packages;
for (const [name, file] of Object.entries(installed.lock_wheels)) {
  const want = lock[name];
  const got = sha256(join(cache, "wheels", file));
  if (!want || want.file_name !== file || got !== want.sha256) {
    throw new Error(`${file}: sha256 ${got}, pyodide-lock.json says ${want && want.sha256}: refused`);
  }
}

// The stand-in for the web: /own/<wheel> and /simple/<project>/ -> /files/<wheel>.
const own = resolve(input.wheel);
const normalize = (name) => name.toLowerCase().replace(/[-_.]+/g, "-");
const projects = new Map(Object.entries(installed.index_wheels).map(([name, w]) => [normalize(name), w]));
const served = [];
let base; // http://127.0.0.1:<port>, once the server listens
const server = createServer((req, res) => {
  served.push(req.url);
  const simple = req.url.match(/^\/simple\/([^/]+)\/$/);
  const file = req.url.match(/^\/files\/([^/]+\.whl)$/);
  if (req.url === `/own/${basename(own)}`) {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(readFileSync(own));
  } else if (simple && projects.has(normalize(simple[1]))) {
    const w = projects.get(normalize(simple[1]));
    res.writeHead(200, { "content-type": "application/vnd.pypi.simple.v1+json" });
    res.end(
      JSON.stringify({
        meta: { "api-version": "1.0" },
        name: normalize(simple[1]),
        files: [{ filename: w.file, url: `${base}/files/${w.file}`, hashes: { sha256: w.sha256 } }],
      }),
    );
  } else if (file && [...projects.values()].some((w) => w.file === file[1])) {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(readFileSync(join(cache, "pypi", file[1])));
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
base = `http://127.0.0.1:${server.address().port}`;

const { loadPyodide } = await import(pathToFileURL(join(cache, "node_modules", "pyodide", "pyodide.mjs")).href);
const pyodide = await timed("load_pyodide", () =>
  loadPyodide({ packageCacheDir: join(cache, "wheels"), stdout: toStderr, stderr: toStderr }),
);
if (pyodide.version !== installed.pyodide) {
  throw new Error(`loaded Pyodide ${pyodide.version}, installed.json says ${installed.pyodide}`);
}
// loadPackage only logs a failure (missing file, wrong sha256) unless errorCallback throws.
await timed("micropip", () =>
  pyodide.loadPackage("micropip", {
    messageCallback: toStderr,
    errorCallback: (message) => {
      throw new Error(`loadPackage(micropip): ${message}`);
    },
  }),
);

for (const [path, text] of Object.entries(input.files)) {
  const full = `/repo/${path}`;
  pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
  pyodide.FS.writeFile(full, text);
}
pyodide.globals.set("wheel_url", `${base}/own/${basename(own)}`);
pyodide.globals.set("index_url", `${base}/simple`);
pyodide.globals.set("module_name", input.module);
pyodide.globals.set("request_json", JSON.stringify(input.request));
await timed("install", () =>
  pyodide.runPythonAsync(`
import micropip
await micropip.install(wheel_url, index_urls=[index_url])
`),
);
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
// What was installed, from where, and what the imported xl_lstm is made of.
// A requirement micropip handed to a loadPackage that failed (it only logs) shows as unsatisfied.
const report = pyodide.runPython(`
import hashlib, importlib.metadata as md, json, micropip, pathlib, sys, xl_lstm
from packaging.requirements import Requirement

def unsatisfied():
    for text in md.requires("xl_lstm") or []:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            have = md.version(req.name)
        except md.PackageNotFoundError:
            have = None
        if have is None or not req.specifier.contains(have, prereleases=True):
            yield f"{text} (installed: {have})"

package = pathlib.Path(xl_lstm.__file__).parent
json.dumps({
    "version": md.version("xl_lstm"),
    "requires": md.requires("xl_lstm"),
    "unsatisfied": list(unsatisfied()),
    "xl_lstm_file": xl_lstm.__file__,
    "site_packages": [p for p in sys.path if p.endswith("site-packages")],
    "packages": {name: [p.version, p.source] for name, p in micropip.list().items()},
    "files": {
        p.relative_to(package).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(package.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    },
})
`);
server.close();
const python = pyodide.runPython("import sys; sys.version");
const memory = process.memoryUsage();
const out = {
  seconds,
  memory_mb: { rss: memory.rss / 2 ** 20, wasm_heap: pyodide._module.HEAP8.length / 2 ** 20 },
  python,
  installed: { ...JSON.parse(report), wheel_url: `${base}/own/${basename(own)}`, served },
  // Python's JSON text as it is: a round trip through JavaScript numbers would turn 1.0 into 1.
  response_json: response,
};
writeSync(1, JSON.stringify(out));
